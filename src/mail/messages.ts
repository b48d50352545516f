import { isIP } from "node:net";
import { deviceOf } from "../device-names";
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

/** A link as a paragraph of its own, with how long it lasts, as plain text and as HTML. */
function linkParts(action: string, link: string, ttlSeconds: number): { text: string[]; html: string[]; validity: string } {
  return {
    text: [`${action}:`, link, ""],
    html: [`<p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p>`, `<p>Or paste this address into your browser:<br>${escapeHtml(link)}</p>`],
    validity: `This link is valid for ${describeDuration(ttlSeconds)} and works once.`,
  };
}

const htmlPage = (body: string[]) => ["<!doctype html>", '<html><body style="font-family: sans-serif; line-height: 1.5">', ...body, "</body></html>"].join("\n");

/** One short message with one link, as plain text and as HTML saying the same. */
function linkMessage(content: { subject: string; intro: string; action: string; link: string; ttlSeconds: number; outro: string }): MessageContent {
  const link = linkParts(content.action, content.link, content.ttlSeconds);
  const text = [content.intro, "", ...link.text, link.validity, content.outro, ""].join("\n");
  const html = htmlPage([`<p>${escapeHtml(content.intro)}</p>`, ...link.html, `<p>${escapeHtml(link.validity)} ${escapeHtml(content.outro)}</p>`]);
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

export function emailChangeMessage(link: string, ttlSeconds: number): MessageContent {
  return linkMessage({
    subject: "Confirm your new email address",
    intro: "Someone asked to make this the email address of their account.",
    action: "Make this my account's address",
    link,
    ttlSeconds,
    outro: "If it was not you, ignore this email: nothing changes.",
  });
}

/** "2026-12-02 at 13:05 UTC": when a change was made, in one zone for every reader. */
export function describeMoment(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 10)} at ${iso.slice(11, 16)} UTC`;
}

/**
 * A notice of a change to an account, as plain text and as HTML saying the same. It carries no
 * link, but for the one way back from an address change: whoever did not make the change is
 * told what to do, not handed a button, so a look-alike of it phishing for a password has
 * nothing true to copy.
 */
function noticeMessage(content: { subject: string; paragraphs: string[]; link?: { action: string; href: string; ttlSeconds: number } }): MessageContent {
  const link = content.link && linkParts(content.link.action, content.link.href, content.link.ttlSeconds);
  const text = [...content.paragraphs.flatMap((paragraph) => [paragraph, ""]), ...(link ? [...link.text, link.validity, ""] : [])].join("\n");
  const html = htmlPage([...content.paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`), ...(link ? [...link.html, `<p>${escapeHtml(link.validity)}</p>`] : [])]);
  return { subject: content.subject, text, html };
}

/** After changePassword (`changed`: the caller's session stays) or resetPassword (`reset`: every session ends). */
export function passwordChangedMessage(how: "changed" | "reset", at: Date): MessageContent {
  const what =
    how === "changed"
      ? `The password of the account registered with this address was changed on ${describeMoment(at)}, and its other sessions were signed out.`
      : `The password of the account registered with this address was reset with an emailed link on ${describeMoment(at)}, and all its sessions were signed out.`;
  return noticeMessage({
    subject: "Your password was changed",
    paragraphs: [
      what,
      "If it was you, there is nothing more to do.",
      "If it was not, someone else has your password or can read your email: secure your email account, then choose a new password with “Forgot your password?” on the sign-in page.",
    ],
  });
}

/** After deleteAccount (`owner`, with the password) or deleteUser (`admin`). */
export function accountDeletedMessage(by: "owner" | "admin", at: Date): MessageContent {
  const what =
    by === "owner"
      ? `The account registered with this address was deleted on ${describeMoment(at)}, after its password was confirmed.`
      : `An administrator deleted the account registered with this address on ${describeMoment(at)}.`;
  return noticeMessage({
    subject: "Your account was deleted",
    paragraphs: [what, "Its sessions were signed out and its data removed. This address may be used to register again.", "If you did not expect this, contact the people who run this service."],
  });
}

/** What an admin did to an account: setUserActive or setUserRole, when it changed something. */
export type AdminChange = "deactivated" | "reactivated" | "promoted" | "demoted";

const ADMIN_CHANGES: Record<AdminChange, { subject: string; what: string; after: string }> = {
  deactivated: {
    subject: "Your account was deactivated",
    what: "deactivated the account registered with this address",
    after: "It can no longer sign in, and all its sessions were signed out.",
  },
  reactivated: { subject: "Your account was reactivated", what: "reactivated the account registered with this address", after: "It can sign in again." },
  promoted: {
    subject: "Your account is now an administrator",
    what: "made the account registered with this address an administrator",
    after: "It can now see and change other accounts. Its sessions go on, and get the new role with their next refresh.",
  },
  demoted: {
    subject: "Your account is no longer an administrator",
    what: "made the account registered with this address a user account again",
    after: "It can no longer see or change other accounts.",
  },
};

/** After an admin's setUserActive or setUserRole that changed the account. */
export function accountChangedByAdminMessage(change: AdminChange, at: Date): MessageContent {
  const { subject, what, after } = ADMIN_CHANGES[change];
  return noticeMessage({
    subject,
    paragraphs: [`An administrator ${what} on ${describeMoment(at)}. ${after}`, "If you did not expect this, contact the people who run this service."],
  });
}

/**
 * "m***@example.com": enough of an address for its owner to know it, and not all of it for
 * whoever else reads the mailbox it is shown in (an address given up, a mailbox taken over).
 */
export function maskAddress(email: string): string {
  const at = email.lastIndexOf("@");
  return `${[...email.slice(0, at)][0] ?? ""}***${email.slice(at)}`;
}

/**
 * To the address an account had, after its owner moved it to `newEmail` (masked: the old
 * mailbox may be one the owner gave up), with the link that undoes it.
 */
export function emailChangedMessage(newEmail: string, at: Date, revert: { link: string; ttlSeconds: number }): MessageContent {
  return noticeMessage({
    subject: "Your email address was changed",
    paragraphs: [
      `The account registered with this address moved to ${maskAddress(newEmail)} on ${describeMoment(at)}, after its password was confirmed and the new address opened the link sent to it. Emails about the account now go there, and this address can no longer reset its password.`,
      "If it was you, there is nothing more to do.",
      "If it was not, someone else has your password. The link below takes your account back: it gives the account this address again, lets you choose a new password and signs out every session.",
    ],
    link: { action: "Take back your account", href: revert.link, ttlSeconds: revert.ttlSeconds },
  });
}

/** To the address a revert took from the account (revertEmailChange). */
export function emailChangeRevertedMessage(at: Date): MessageContent {
  return noticeMessage({
    subject: "Your email address was changed back",
    paragraphs: [
      `The account that had this address was given back the address it had before on ${describeMoment(at)}, through the link sent there when it moved to this one. Its password was reset and all its sessions were signed out; this address is no longer the account's.`,
      "If you did not expect this, contact the people who run this service.",
    ],
  });
}

/**
 * "Firefox on Linux", "an app on Android": the device as the notice of a new one names it, from
 * the fixed lists of device-names.ts. Nothing of the user agent itself is copied into an email:
 * it is whatever the client sent, and a thief holding the password could make it read as
 * instructions to the account's owner.
 */
export function describeDevice(userAgent: string | null): string {
  if (userAgent === null) return "a program that sent no user agent";
  const { browser, system } = deviceOf(userAgent);
  if (browser) return system ? `${browser} on ${system}` : browser;
  return system ? `an app on ${system}` : "an unrecognised browser or app";
}

/**
 * After a sign-in from a browser or app the account had not been signed in from, with the IP
 * address when the client's is one (behind a misconfigured proxy it is whatever a header said).
 */
export function newSignInMessage(client: { userAgent: string | null; ip: string | null }, at: Date): MessageContent {
  const from = client.ip !== null && isIP(client.ip) ? ` at the IP address ${client.ip}` : "";
  return noticeMessage({
    subject: "New sign-in to your account",
    paragraphs: [
      `The account registered with this address was signed in to on ${describeMoment(at)} with its password, from ${describeDevice(client.userAgent)}${from}: a browser or app it had not been signed in from lately.`,
      "If it was you, there is nothing more to do.",
      "If it was not, someone else has your password: choose a new password with “Forgot your password?” on the sign-in page, which signs out every session.",
    ],
  });
}
