import { deviceName } from "../../src/device-names";
import { describeDevice, newSignInMessage } from "../../src/mail/messages";

describe("describeDevice: the device as the notice of a new one names it", () => {
  test.each([
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36", "Chrome on Windows"],
    ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 Edg/156.0.0.0", "Edge on Windows"],
    ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 OPR/120.0.0.0", "Opera on macOS"],
    ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15", "Safari on macOS"],
    ["Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1", "Safari on iPhone"],
    ["Mozilla/5.0 (iPad; CPU OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/156.0.0.0 Mobile/15E148 Safari/604.1", "Chrome on iPad"],
    ["Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Mobile Safari/537.36", "Chrome on Android"],
    ["Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/27.0 Chrome/125.0.0.0 Mobile Safari/537.36", "Samsung Internet on Android"],
    ["Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0", "Firefox on Linux"],
    ["Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36", "Chrome on ChromeOS"],
    ["okhttp/4.12.0 (Linux; Android 14)", "an app on Android"],
    ["curl/8.5.0", "an unrecognised browser or app"],
    ["", "an unrecognised browser or app"],
  ])("%s", (userAgent, name) => {
    expect(describeDevice(userAgent)).toBe(name);
  });

  test("a client that sent none", () => {
    expect(describeDevice(null)).toBe("a program that sent no user agent");
  });
});

test("the account pages name a device alike, without the email's phrasing", () => {
  expect(deviceName("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36")).toBe("Chrome on Linux");
  expect(deviceName("Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1")).toBe("Safari on iPhone");
  expect(deviceName("okhttp/4.12.0 (Linux; Android 14)")).toBe("Android");
  expect(deviceName("curl/8.5.0")).toBeNull();
  expect(deviceName(null)).toBeNull();
});

test("the notice gives the client's IP address only when it is one: behind a misconfigured proxy it is whatever a header said", () => {
  const at = new Date("2026-12-02T13:05:00Z");
  const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
  expect(newSignInMessage({ userAgent: firefox, ip: "203.0.113.7" }, at).text).toContain("from Firefox on Linux at the IP address 203.0.113.7:");
  expect(newSignInMessage({ userAgent: firefox, ip: "2001:db8::1" }, at).text).toContain("at the IP address 2001:db8::1:");
  for (const ip of ["203.0.113.7:51234", "visit evil.example", null]) {
    const { text, html } = newSignInMessage({ userAgent: firefox, ip }, at);
    expect(text).toContain("from Firefox on Linux: a browser or app");
    expect(`${text}${html}`).not.toMatch(/IP address|evil|51234/);
  }
});
