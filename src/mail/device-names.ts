import { isIP } from "node:net";

// First match wins: Edge and Opera also say "Chrome", Chrome also says "Safari".
const BROWSERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\//, "Edge"],
  [/\bOPR\/|\bOpera\b/, "Opera"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\bFirefox\/|\bFxiOS\//, "Firefox"],
  [/\bChrome\/|\bCriOS\/|\bChromium\//, "Chrome"],
  [/\bVersion\/[\d.]+.*\bSafari\//, "Safari"],
];

// iOS and Android browsers also say "Mac OS X" and "Linux".
const SYSTEMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\biPhone\b/, "iPhone"],
  [/\biPad\b/, "iPad"],
  [/\bAndroid\b/, "Android"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bWindows\b/, "Windows"],
  [/\bMacintosh\b|\bMac OS X\b/, "macOS"],
  [/\bLinux\b/, "Linux"],
];

const nameIn = (userAgent: string, names: ReadonlyArray<readonly [RegExp, string]>) => names.find(([pattern]) => pattern.test(userAgent))?.[1];

/**
 * "Firefox on Linux": the browser and system a user agent names, from a fixed list. Nothing of
 * the user agent itself is copied into an email: it is whatever the client sent, and a thief
 * holding the password could make it read as instructions to the account's owner.
 */
export function describeDevice(userAgent: string | null): string {
  if (userAgent === null) return "a program that sent no user agent";
  const browser = nameIn(userAgent, BROWSERS);
  const system = nameIn(userAgent, SYSTEMS);
  if (browser && system) return `${browser} on ${system}`;
  if (browser) return browser;
  if (system) return `an app on ${system}`;
  return "an unrecognised browser or app";
}

/** The client's IP address as the service saw it, or null when what it has is not one. */
export const readableIp = (ip: string | null): string | null => (ip !== null && isIP(ip) ? ip : null);
