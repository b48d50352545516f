import type { MiddlewareFn } from "type-graphql";
import type { Context } from "../context";

/**
 * When CAPTCHA_PROVIDER is set, the operation needs a captchaToken the provider accepts;
 * checked after the rate limits and before any password work.
 */
export const RequireCaptcha: MiddlewareFn<Context> = async ({ args, context }, next) => {
  await context.services.captcha.verify(args.input?.captchaToken ?? args.captchaToken, context.client.ip);
  return next();
};
