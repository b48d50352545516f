import { escapeHtml } from "../html";

export interface MessageContent {
  subject: string;
  text: string;
  html: string;
}

const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? "" : "s"}`;

/** "30 minutes", "24 hours", "3 days": the unit a reader expects for that length. */
function describeDuration(seconds: number): string {
  if (seconds < 120) return plural(seconds, "second");
  if (seconds < 2 * 3600) return plural(Math.round(seconds / 60), "minute");
  if (seconds < 2 * 86_400) return plural(Math.round(seconds / 3600), "hour");
  return plural(Math.round(seconds / 86_400), "day");
}

/** One short message with one link, as plain text and as HTML saying the same. */
function linkMessage(content: { subject: string; intro: string; action: string; link: string; ttlSeconds: number; outro: string }): MessageContent {
  const validity = `This link is valid for ${describeDuration(content.ttlSeconds)} and works once.`;
  const text = [content.intro, "", `${content.action}:`, content.link, "", validity, content.outro, ""].join("\n");
  const html = [
    "<!doctype html>",
    '<html><body style="font-family: sans-serif; line-height: 1.5">',
    `<p>${escapeHtml(content.intro)}</p>`,
    `<p><a href="${escapeHtml(content.link)}">${escapeHtml(content.action)}</a></p>`,
    `<p>Or paste this address into your browser:<br>${escapeHtml(content.link)}</p>`,
    `<p>${escapeHtml(validity)} ${escapeHtml(content.outro)}</p>`,
    "</body></html>",
  ].join("\n");
  return { subject: content.subject, text, html };
}

export function passwordResetMessage(link: string, ttlSeconds: number): MessageContent {
  return linkMessage({
    subject: "Reset your password",
    intro: "Someone asked to reset the password of the account registered with this address.",
    action: "Choose a new password",
    link,
    ttlSeconds,
    outro: "If it was not you, ignore this email: your password stays as it is.",
  });
}

export function emailVerificationMessage(link: string, ttlSeconds: number): MessageContent {
  return linkMessage({
    subject: "Confirm your email address",
    intro: "Please confirm that this address belongs to your account.",
    action: "Confirm your email address",
    link,
    ttlSeconds,
    outro: "If you did not create an account, ignore this email.",
  });
}
