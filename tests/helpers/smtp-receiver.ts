import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  /** Envelope recipients, as the server was told by RCPT TO. */
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  raw: string;
}

export interface SmtpReceiver {
  /** smtp://127.0.0.1:PORT, for SMTP_URL. */
  url: string;
  mails: ReceivedMail[];
  /** The first mail to `to` that matches, received already or within `timeoutMs`. */
  waitForMail(to: string, matches?: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/** A real SMTP server on a free local port (no TLS, no auth) that keeps what it receives. */
export async function startSmtpReceiver(options: { delayMs?: number; refuseRecipients?: boolean } = {}): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const waiters = new Set<() => void>();

  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    // A slow server: each envelope is accepted only after this long (a send is then in flight for it).
    onMailFrom(_address, _session, callback) {
      if (options.delayMs) setTimeout(() => callback(), options.delayMs);
      else callback();
    },
    // A server that knows no such mailbox, and says so naming it, as Postfix does.
    onRcptTo(address, _session, callback) {
      if (!options.refuseRecipients) return callback();
      callback(Object.assign(new Error(`<${address.address}>: Recipient address rejected: User unknown`), { responseCode: 550 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        const envelope = session.envelope;
        const from = envelope.mailFrom ? envelope.mailFrom.address : "";
        mails.push({ ...parseMessage(raw), to: envelope.rcptTo.map((r) => r.address), from, raw });
        for (const wake of waiters) wake();
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    mails,
    waitForMail(to, matches = () => true, timeoutMs = 5000) {
      const find = () => mails.find((mail) => mail.to.includes(to) && matches(mail));
      return new Promise((resolve, reject) => {
        const check = () => {
          const mail = find();
          if (!mail) return;
          done();
          resolve(mail);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no mail to ${to} within ${timeoutMs} ms (received: ${mails.map((m) => m.to).join(", ")})`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Part {
  headers: Map<string, string>;
  body: string;
}

/** Enough MIME for the messages nodemailer writes: headers, nested multiparts, QP and base64. */
function parseMessage(raw: string): { subject: string; text: string; html: string } {
  const root = parsePart(raw);
  const found = { text: "", html: "" };
  collect(root, found);
  return { subject: root.headers.get("subject") ?? "", ...found };
}

function parsePart(raw: string): Part {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? "" : raw.slice(split).replace(/^\r?\n\r?\n/, "");
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function collect(part: Part, found: { text: string; html: string }): void {
  const type = part.headers.get("content-type") ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (type.toLowerCase().startsWith("multipart/") && boundary) {
    const sections = part.body.split(`--${boundary}`).slice(1);
    for (const section of sections) {
      if (section.startsWith("--")) break;
      collect(parsePart(section.replace(/^\r?\n/, "")), found);
    }
    return;
  }
  const body = decode(part.body, part.headers.get("content-transfer-encoding") ?? "7bit");
  if (type.toLowerCase().startsWith("text/html")) found.html += body;
  else if (type.toLowerCase().startsWith("text/plain")) found.text += body;
}

function decode(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case "quoted-printable": {
      const bytes = body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      return Buffer.from(bytes, "latin1").toString("utf8");
    }
    case "base64":
      return Buffer.from(body, "base64").toString("utf8");
    default:
      return body;
  }
}
