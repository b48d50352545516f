import type { Config } from "../config";
import { AppError } from "../errors";

export type Captcha = ReturnType<typeof createCaptcha>;

const TIMEOUT_MS = 5_000;
const FIELD = "captchaToken";
// The providers' tokens are a few hundred to a few thousand characters (Turnstile's at most 2,048).
const MAX_TOKEN_LENGTH = 8_192;

/** The provider could not be asked, or gave no answer to read. Not an AppError: a fault, logged. */
class CaptchaUnavailable extends Error {}

/** The token was missing or not accepted: BAD_USER_INPUT on the captcha's field. */
class CaptchaRefused extends AppError {
  constructor(message: string) {
    super("BAD_USER_INPUT", message, { field: FIELD });
  }
}

/**
 * The call stopped at its captcha, before it did anything: the token was missing or not
 * accepted, or the provider could not be asked. Either way the caller proved nothing.
 */
export function isStoppedByCaptcha(error: unknown): boolean {
  return error instanceof CaptchaRefused || error instanceof CaptchaUnavailable;
}

/**
 * Checks a captcha token with the provider's siteverify API (Turnstile, hCaptcha and
 * reCAPTCHA share its shape). Without a provider configured every call passes. A provider
 * that cannot be reached fails closed: no answer is no proof of a human.
 */
export function createCaptcha(deps: { config: Config["captcha"]; fetch?: typeof fetch }) {
  const { config } = deps;
  const request = deps.fetch ?? fetch;

  return {
    async verify(token: string | null | undefined, ip: string | null): Promise<void> {
      if (!config) return;
      if (!token) throw new CaptchaRefused("Complete the captcha");
      if (token.length > MAX_TOKEN_LENGTH) throw new CaptchaRefused("The captcha was not accepted; try again");
      const form = new URLSearchParams({ secret: config.secret, response: token, ...(ip ? { remoteip: ip } : {}) });
      let success: unknown;
      try {
        const response = await request(config.verifyUrl, { method: "POST", body: form, signal: AbortSignal.timeout(TIMEOUT_MS) });
        if (!response.ok) throw new Error(`siteverify answered ${response.status}`);
        ({ success } = (await response.json()) as { success?: unknown });
      } catch (error) {
        // Not an AppError: it is logged with its cause (graphql/plugins/fault-log.ts) and answered with the fixed internal message.
        throw new CaptchaUnavailable("Captcha verification is unavailable; try again later", { cause: error });
      }
      if (success !== true) throw new CaptchaRefused("The captcha was not accepted; try again");
    },
  };
}
