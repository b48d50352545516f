/*
 * What a user agent names, from fixed lists: for the new-device notice (mail/messages.ts) and
 * the account pages' session list (web/src/pages/sessions.tsx), which import this file too, so
 * the email and the page a reader goes to check it name a device alike. No Node APIs here.
 */

// First match wins: Edge and Opera also say "Chrome", Chrome also says "Safari". No word
// boundaries: headless Chrome says "HeadlessChrome/".
const BROWSERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/Edg(?:e|A|iOS)?\//, "Edge"],
  [/OPR\/|Opera\b/, "Opera"],
  [/SamsungBrowser\//, "Samsung Internet"],
  [/Firefox\/|FxiOS\//, "Firefox"],
  [/Chrome\/|CriOS\/|Chromium\//, "Chrome"],
  [/Version\/[\d.]+.*Safari\//, "Safari"],
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

/** The browser and the system a user agent names, each when it is one of the lists'. */
export function deviceOf(userAgent: string): { browser?: string; system?: string } {
  return { browser: nameIn(userAgent, BROWSERS), system: nameIn(userAgent, SYSTEMS) };
}

/** "Firefox on Linux", "Chrome", "Android", or null when the user agent names nothing familiar. */
export function deviceName(userAgent: string | null): string | null {
  if (!userAgent) return null;
  const { browser, system } = deviceOf(userAgent);
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? null;
}
