import { getGraphQLRateLimiter, type Store } from "graphql-rate-limit";
import type { MiddlewareFn } from "type-graphql";
import type { Hit } from "../../auth/rate-limits";
import { normalizeEmail } from "../../auth/emails";
import type { RateLimitedOperation, RateLimitRule } from "../../config";
import { AppError } from "../../errors";
import type { Context } from "../context";

/** Who a rule counts: the client address, the email in the arguments, or the caller. */
async function subjectOf(rule: RateLimitRule, context: Context, args: { input?: { email?: unknown }; email?: unknown }): Promise<string | null> {
  switch (rule.by) {
    case "ip":
      return context.client.ip ? `ip:${context.client.ip}` : null;
    case "email": {
      const email: unknown = args.input?.email ?? args.email;
      // Normalised, so changing the case or adding spaces does not buy more attempts.
      return typeof email === "string" ? `email:${normalizeEmail(email)}` : null;
    }
    case "user": {
      const viewer = await context.viewer();
      return viewer ? `user:${viewer.user.id}` : null;
    }
  }
}

/**
 * Applies the operation's rate-limit rules before its resolver runs, through
 * graphql-rate-limit's limiter. Out of the box that limiter reads a store, then writes it
 * (its issue #188: concurrent calls all read the same count and all pass), so the store
 * given here counts the call in the read itself, with one atomic increment, and its write
 * is a no-op.
 */
export function RateLimit(operation: RateLimitedOperation): MiddlewareFn<Context> {
  return async ({ root, args, context, info }, next) => {
    const held: Hit[] = [];
    for (const rule of context.services.rateLimits.rulesFor(operation)) {
      const subject = await subjectOf(rule, context, args);
      if (!subject) continue;
      let hit = undefined as Hit | undefined;
      const store: Store = {
        getForIdentity: async ({ contextIdentity, fieldIdentity }) => {
          hit = await context.services.rateLimits.hit(`${fieldIdentity}:${rule.by}:${contextIdentity}`, rule);
          // The calls before this one, all inside the window the store keeps; the limiter only
          // compares their number with max, so more than max of them would change nothing.
          return Array.from({ length: Math.min(Math.max(0, hit.count - 1), rule.max) }, () => Date.now());
        },
        setForIdentity: () => {},
      };
      const limiter = getGraphQLRateLimiter({ identifyContext: () => subject, store });
      const limited = await limiter({ parent: root, args, context, info }, { max: rule.max, window: `${rule.windowSeconds}s` });
      if (limited) {
        context.services.rateLimits.reportLimited(operation, rule, subject);
        throw new AppError("RATE_LIMITED", "Too many attempts; try again later", { retryAfter: hit!.retryAfter });
      }
      if (rule.failuresOnly) held.push(hit!);
    }
    const result = await next();
    // Only failures count against these rules: a call that got here succeeded.
    await Promise.all(held.map((h) => h.release()));
    return result;
  };
}
