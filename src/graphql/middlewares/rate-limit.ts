import { getGraphQLRateLimiter, type Store } from "graphql-rate-limit";
import type { GraphQLResolveInfo } from "graphql";
import type { MiddlewareFn } from "type-graphql";
import { addressBucket, emailSubject, type Hit } from "../../auth/rate-limits";
import { isStoppedByCaptcha } from "../../auth/captcha";
import { isBusy } from "../../auth/passwords";
import type { RateLimitedOperation, RateLimitRule } from "../../config";
import { AppError } from "../../errors";
import type { Context } from "../context";

type Args = { input?: { email?: unknown }; email?: unknown };

/**
 * Who a rule counts: the client address, the email in the arguments, or the caller (whose id
 * the security event of a refusal names).
 */
async function subjectOf(rule: RateLimitRule, context: Context, args: Args): Promise<{ subject: string; userId?: string } | null> {
  switch (rule.by) {
    case "ip":
      return { subject: `ip:${addressBucket(context.client.ip)}` };
    case "email": {
      const email: unknown = args.input?.email ?? args.email;
      // Hashed, since this runs before the address is checked: a 100 KB "email" made a 100 KB key per call.
      return typeof email === "string" ? { subject: emailSubject(email) } : null;
    }
    case "user": {
      const viewer = await context.viewer();
      return viewer ? { subject: `user:${viewer.user.id}`, userId: viewer.user.id } : null;
    }
  }
}

interface Counted {
  rule: RateLimitRule;
  userId?: string;
  hit: Hit;
  limited: boolean;
}

/**
 * Counts this call against one rule through graphql-rate-limit's limiter. Out of the box that
 * limiter reads a store, then writes it (its issue #188: concurrent calls all read the same
 * count and all pass), so the store given here counts the call in the read itself, with one
 * atomic increment, and its write is a no-op.
 */
async function count(operation: RateLimitedOperation, rule: RateLimitRule, resolver: { root: unknown; args: Args; context: Context; info: GraphQLResolveInfo }): Promise<Counted | null> {
  const { context } = resolver;
  const counts = await subjectOf(rule, context, resolver.args);
  if (!counts) return null;
  const { subject } = counts;
  let hit = undefined as Hit | undefined;
  const store: Store = {
    // The counter is ours, named by operation and subject (the limiter's identity adds nothing to those).
    getForIdentity: async () => {
      hit = await context.services.rateLimits.hit(operation, rule, subject, context.client);
      // The limiter only compares the number of earlier calls in the window with max (this
      // call makes one more): none stand for a count under it, max for one over it, so an
      // allowed call builds no list of the calls before it.
      return hit.count > rule.max ? new Array<number>(rule.max).fill(Date.now()) : [];
    },
    setForIdentity: () => {},
  };
  const limiter = getGraphQLRateLimiter({ identifyContext: () => subject, store });
  const limited = await limiter({ parent: resolver.root, args: resolver.args, context, info: resolver.info }, { max: rule.max, window: `${rule.windowSeconds}s` });
  return { rule, userId: counts.userId, hit: hit!, limited: Boolean(limited) };
}

/**
 * Applies the operation's rate-limit rules before its resolver runs. The rules are counted
 * together (their increments leave in one Redis write), and each call counts against every
 * rule it falls under. Counts are given back where nothing happened to what they count:
 * - a rule that counts failures only (`failuresOnly`) gets its count back when the call
 *   succeeds, and one that counts successes only (`successesOnly`) when it fails;
 * - a call refused before it did anything (by a rule, its captcha, or a busy hasher) gives
 *   back both of those and its counts by email too: the address it named had no password
 *   checked and no email sent, so calls a client cannot make count against nobody's account.
 * Counts by address and by caller stay: they are the client's own.
 */
export function RateLimit(operation: RateLimitedOperation): MiddlewareFn<Context> {
  return async ({ root, args, context, info }, next) => {
    const rules = context.services.rateLimits.rulesFor(operation);
    const counted = (await Promise.all(rules.map((rule) => count(operation, rule, { root, args, context, info })))).filter((c) => c !== null);
    const giveBack = (which: (rule: RateLimitRule) => boolean) => Promise.all(counted.filter((c) => which(c.rule)).map((c) => c.hit.release()));
    // A call that did nothing spent no attempt at a password, nobody's count by email, and no email.
    const isUnspent = (rule: RateLimitRule) => rule.failuresOnly === true || rule.successesOnly === true || rule.by === "email";
    const refused = counted.filter((c) => c.limited);
    if (refused.length > 0) {
      await giveBack(isUnspent);
      context.services.events.rateLimited({ operation: info.fieldName, limit: operation }, refused, context.client);
      throw new AppError("RATE_LIMITED", "Too many attempts; try again later", { retryAfter: Math.max(...refused.map((c) => c.hit.retryAfter)) });
    }
    let result: unknown;
    try {
      result = await next();
    } catch (error) {
      // A failed call sent no email. One refused before it did anything (its captcha, a busy
      // hasher) gives back what a refusal by a rule does: so without a captcha solved per attempt
      // nobody can lock an account out or spend its emails, and a shed flood counts for no account.
      const isStoppedEarly = isStoppedByCaptcha(error) || isBusy(error);
      await giveBack((rule) => rule.successesOnly === true || (isStoppedEarly && isUnspent(rule)));
      throw error;
    }
    await giveBack((rule) => rule.failuresOnly === true);
    return result;
  };
}
