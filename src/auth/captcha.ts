import type { Config } from "../config";
import { AppError, badInput } from "../errors";

export type Captcha = ReturnType<typeof createCaptcha>;

const TIMEOUT_MS = 5_000;
const FIELD = "captchaToken";

/** A captcha missing or not accepted: the caller proved nothing (a provider out of reach is not this). */
export function isCaptchaRefusal(error: unknown): boolean {
  return error instanceof AppError && error.code === "BAD_USER_INPUT" && error.extensions.field === FIELD;
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
      if (!token) throw badInput(FIELD, "Complete the captcha");
      const form = new URLSearchParams({ secret: config.secret, response: token, ...(ip ? { remoteip: ip } : {}) });
      let success: unknown;
      try {
        const response = await request(config.verifyUrl, { method: "POST", body: form, signal: AbortSignal.timeout(TIMEOUT_MS) });
        if (!response.ok) throw new Error(`siteverify answered ${response.status}`);
        ({ success } = (await response.json()) as { success?: unknown });
      } catch (error) {
        // Not an AppError: it is logged with its cause (graphql/plugins/fault-log.ts) and answered with the fixed internal message.
        throw new Error("Captcha verification is unavailable; try again later", { cause: error });
      }
      if (success !== true) throw badInput(FIELD, "The captcha was not accepted; try again");
    },
  };
}
