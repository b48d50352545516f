import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import type { FastifyReply } from "fastify";
import type { Config } from "../config";
import type { Logger } from "../logger";
import { escapeHtml } from "../html";
import type { HttpServer } from "./app";

/** What `npm run build` writes (vite build of web/); the same folder from src/http and dist/http. */
export const ACCOUNT_UI_ROOT = path.resolve(__dirname, "../../web/dist");
const PREFIX = "/account";

// Where each provider's widget loads its scripts, frames and styles from, as their CSP guides list them.
const CAPTCHA_SOURCES = {
  turnstile: ["https://challenges.cloudflare.com"],
  hcaptcha: ["https://hcaptcha.com", "https://*.hcaptcha.com"],
  recaptcha: ["https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/", "https://recaptcha.google.com/recaptcha/"],
} as const;

/**
 * The pages load only their own files and talk only to this origin: no inline script or
 * style, no eval, no frames, no foreign hosts; Trusted Types leave no string-to-DOM sink.
 * With a captcha (CAPTCHA_PROVIDER) the sign-in, sign-up and reset forms show the provider's
 * widget: its hosts (and CAPTCHA_SCRIPT_URL's) may then serve scripts, frames, styles and
 * connections, and Trusted Types are no longer required, since the widgets' own scripts
 * write to the DOM with strings.
 */
function accountUiCsp(captcha: Config["captcha"]): string {
  const hosts = captcha ? [...new Set([...CAPTCHA_SOURCES[captcha.provider], new URL(captcha.scriptUrl).origin])] : [];
  const self = (directive: string) => [directive, "'self'", ...hosts].join(" ");
  return [
    "default-src 'none'",
    self("script-src"),
    self("style-src"),
    "img-src 'self' data:",
    self("connect-src"),
    ...(hosts.length ? [`frame-src ${hosts.join(" ")}`] : []),
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(hosts.length ? [] : ["require-trusted-types-for 'script'", "trusted-types 'none'"]),
  ].join("; ");
}

/** The policy without a captcha. */
export const ACCOUNT_UI_CSP = accountUiCsp(undefined);

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webmanifest": "application/manifest+json",
  ".json": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2",
};

interface Asset {
  body: Buffer;
  /** Compressed once at start for text files (the app's script is mostly text). */
  gzipped?: Buffer;
  type: string;
  cacheControl: string;
}

const isText = (type: string) => /^text\/|json|svg|javascript/.test(type);

/**
 * Every built file but index.html, read once at start and keyed by its URL. A request is answered
 * from this map by exact name, so no part of a URL ever becomes a filesystem path.
 */
function readAssets(root: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const relative = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join("/");
    if (relative === "index.html") continue;
    const body = readFileSync(path.join(root, relative));
    const type = CONTENT_TYPES[path.extname(relative)] ?? "application/octet-stream";
    assets.set(`${PREFIX}/${relative}`, {
      body,
      gzipped: isText(type) ? gzipSync(body, { level: 9 }) : undefined,
      type,
      // Vite puts a content hash in the name of everything under assets/: a new build has new names.
      cacheControl: relative.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache",
    });
  }
  return assets;
}

/** index.html with the settings the pages need, so that they start without a round trip, and the captcha widget's script. */
function renderIndex(config: Config, root: string): string {
  const { captcha } = config;
  const settings = {
    "refresh-token-cookie": String(config.http.refreshTokenCookie),
    "password-min-length": String(config.passwords.minLength),
    ...(captcha && { "captcha-provider": captcha.provider, "captcha-site-key": captcha.siteKey ?? "" }),
  };
  const metas = Object.entries(settings)
    .map(([name, value]) => `<meta name="${name}" content="${escapeHtml(value)}">`)
    .join("");
  const widget = captcha ? `<script src="${escapeHtml(captcha.scriptUrl)}" async></script>` : "";
  return readFileSync(path.join(root, "index.html"), "utf8").replace("</head>", `${metas}${widget}</head>`);
}

/**
 * What the global hook (security-headers.ts) leaves out or sets looser for the API. Its
 * `referrer-policy: no-referrer` matters here: reset and verification links carry their token
 * in the query string, which must never be passed on.
 */
function setSecurityHeaders(reply: FastifyReply, csp: string): FastifyReply {
  return reply.header("content-security-policy", csp).header("x-frame-options", "DENY");
}

/** Whether a client takes gzip: named, or covered by "*", with a weight above 0 (RFC 9110 §12.5.3). */
function acceptsGzip(header: string | undefined): boolean {
  const weights = new Map<string, number>();
  for (const part of (header ?? "").split(",")) {
    const [coding = "", ...params] = part.split(";").map((piece) => piece.trim().toLowerCase());
    const weight = params.find((param) => param.startsWith("q="));
    weights.set(coding, weight ? Number(weight.slice(2)) : 1);
  }
  return (weights.get("gzip") ?? weights.get("*") ?? 0) > 0;
}

/**
 * The account pages at /account/ (ACCOUNT_UI): the built files, and index.html for every other
 * path below /account/, where the single-page app routes (/account/reset-password?token=…).
 */
export function registerAccountUi(http: HttpServer, deps: { config: Config; logger: Logger }, root = ACCOUNT_UI_ROOT): void {
  const { config, logger } = deps;
  if (!config.accountUi) return;

  if (!existsSync(path.join(root, "index.html"))) {
    logger.warn({ root }, "ACCOUNT_UI is on but the pages are not built: run npm run build");
    const notBuilt = async (_request: unknown, reply: FastifyReply) =>
      reply.code(503).type("text/plain; charset=utf-8").send("The account pages are not built: run npm run build.\n");
    http.get(PREFIX, notBuilt);
    http.get(`${PREFIX}/*`, notBuilt);
    return;
  }

  const index = renderIndex(config, root);
  const assets = readAssets(root);
  const csp = accountUiCsp(config.captcha);

  // The query only: the path may have been written otherwise ("/%61ccount"). no-store, as the
  // pages: a redirect may be cached, and the query may carry a link's token.
  http.get(PREFIX, async (request, reply) => {
    const query = request.url.indexOf("?");
    return reply.header("cache-control", "no-store").redirect(`${PREFIX}/${query < 0 ? "" : request.url.slice(query)}`, 308);
  });

  http.get(`${PREFIX}/*`, async (request, reply) => {
    setSecurityHeaders(reply, csp);
    const pathname = request.url.split("?", 1)[0] as string;
    const asset = assets.get(pathname);
    if (asset) {
      reply.type(asset.type).header("cache-control", asset.cacheControl).header("vary", "accept-encoding");
      return asset.gzipped && acceptsGzip(request.headers["accept-encoding"]) ? reply.header("content-encoding", "gzip").send(asset.gzipped) : reply.send(asset.body);
    }
    // A missing asset is a 404, not the app: a stale script tag must not get HTML.
    if (pathname.startsWith(`${PREFIX}/assets/`)) return reply.code(404).type("text/plain; charset=utf-8").send("Not found\n");
    // no-store: the page's URL may carry a reset or verification token, which a stored copy
    // would keep on disk for as long as the browser's cache does.
    return reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(index);
  });
}
