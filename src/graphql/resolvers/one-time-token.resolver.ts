import { Arg, Authorized, Ctx, Int, Mutation, Resolver, UseMiddleware } from "type-graphql";
import type { Context } from "../context";
import { RateLimit } from "../middlewares/rate-limit";
import { OneTimeToken, OneTimeTokenConsumption } from "../types/one-time-token.type";

@Resolver()
export class OneTimeTokenResolver {
  @Authorized()
  @UseMiddleware(RateLimit("issueOneTimeToken"))
  @Mutation(() => OneTimeToken, {
    description: "Requires authentication. ttlSeconds defaults to ONE_TIME_TOKEN_TTL and may not exceed ONE_TIME_TOKEN_MAX_TTL.",
  })
  async issueOneTimeToken(
    @Arg("purpose", () => String) purpose: string,
    @Arg("ttlSeconds", () => Int, { nullable: true }) ttlSeconds: number | null,
    @Ctx() ctx: Context,
  ) {
    return ctx.services.oneTimeTokens.issue(await ctx.requireViewer(), purpose, ttlSeconds);
  }

  @Authorized()
  @UseMiddleware(RateLimit("consumeOneTimeToken"))
  @Mutation(() => OneTimeTokenConsumption, {
    description:
      "Requires authentication as the token's issuer or as an ADMIN. Succeeds at most\nonce per token, for the purpose it was issued for, before it expires.",
  })
  async consumeOneTimeToken(@Arg("token", () => String) token: string, @Arg("purpose", () => String) purpose: string, @Ctx() ctx: Context) {
    const consumed = await ctx.services.oneTimeTokens.consume(await ctx.requireViewer(), token, purpose);
    return { purpose: consumed.purpose, issuedAt: consumed.issuedAt, user: await ctx.loaders.userById.load(consumed.userId) };
  }
}
