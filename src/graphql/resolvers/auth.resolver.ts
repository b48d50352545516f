import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from "type-graphql";
import type { AuthResult } from "../../auth/accounts";
import { AppError } from "../../errors";
import type { Context } from "../context";
import { RequireCaptcha } from "../middlewares/captcha";
import { RateLimit } from "../middlewares/rate-limit";
import { LoginInput } from "../inputs/login.input";
import { RegisterInput } from "../inputs/register.input";
import { presentedRefreshToken, requireRefreshToken } from "../refresh-cookie";
import { AuthPayload } from "../types/auth-payload.type";

/** The caller just proved it owns the returned account, so it may read all of it (and a browser gets the cookie). */
async function toOwner(ctx: Context, result: Promise<AuthResult>, { setCookie = true } = {}): Promise<AuthResult> {
  const payload = await result;
  ctx.provenOwnerOf.add(payload.user.id);
  if (setCookie) ctx.refreshCookie.write(payload.refreshToken);
  return payload;
}

/**
 * Whether a refresh gives this browser its successor: the cookie's own token, or any token when
 * there is no cookie. Rotating another session's token leaves the cookie, the only copy of its
 * own session's token, alone.
 */
function rotatesOwnCookie(ctx: Context, argument: string | null): boolean {
  const cookie = ctx.refreshCookie.read();
  return argument == null || cookie === undefined || argument === cookie;
}

/**
 * A token the service refused is unknown or its session is over: the cookie holding it goes
 * (kept, it would cost the browser a refused refresh on every page load until it expired). A
 * failure of the service's own (the database, say) leaves it: its session may still run, and
 * the cookie holds the only copy of its token.
 */
function clearRefusedCookie(ctx: Context, error: unknown): void {
  if (error instanceof AppError && error.code === "UNAUTHENTICATED") ctx.refreshCookie.clear();
}

const REFRESH_TOKEN_ARG = { nullable: true, description: "Omitted: the refresh-token cookie (REFRESH_TOKEN_COOKIE)." } as const;

@Resolver()
export class AuthResolver {
  @UseMiddleware(RateLimit("register"), RequireCaptcha)
  @Mutation(() => AuthPayload)
  register(@Arg("input", () => RegisterInput) input: RegisterInput, @Ctx() ctx: Context) {
    return toOwner(ctx, ctx.services.accounts.register(input, ctx.client));
  }

  @UseMiddleware(RateLimit("login"), RequireCaptcha)
  @Mutation(() => AuthPayload)
  login(@Arg("input", () => LoginInput) input: LoginInput, @Ctx() ctx: Context) {
    return toOwner(ctx, ctx.services.accounts.login(input, ctx.client));
  }

  @UseMiddleware(RateLimit("refreshToken"))
  @Mutation(() => AuthPayload, { description: "Rotates: returns a new pair and retires the token passed in." })
  async refreshToken(@Arg("refreshToken", () => String, REFRESH_TOKEN_ARG) refreshToken: string | null, @Ctx() ctx: Context) {
    const ownCookie = rotatesOwnCookie(ctx, refreshToken);
    try {
      const rotation = ctx.services.accounts.refresh(requireRefreshToken(ctx.refreshCookie, refreshToken), ctx.client);
      return await toOwner(ctx, rotation, { setCookie: ownCookie });
    } catch (error) {
      if (ownCookie) clearRefusedCookie(ctx, error);
      throw error;
    }
  }

  @Mutation(() => Boolean, { description: "Ends the session that this refresh token belongs to." })
  async logout(@Arg("refreshToken", () => String, REFRESH_TOKEN_ARG) refreshToken: string | null, @Ctx() ctx: Context) {
    const token = presentedRefreshToken(ctx.refreshCookie, refreshToken);
    // The cookie goes with the session it holds: ending another token leaves this browser's own
    // session, and the only copy of its token, alone.
    const clearsCookie = refreshToken == null || refreshToken === ctx.refreshCookie.read();
    // Nothing presented ends nothing; anything presented, an empty string too, is a token to check.
    if (token === undefined) {
      if (clearsCookie) ctx.refreshCookie.clear();
      return false;
    }
    try {
      const ended = await ctx.services.accounts.logout(token, ctx.client);
      if (clearsCookie) ctx.refreshCookie.clear();
      return ended;
    } catch (error) {
      if (clearsCookie) clearRefusedCookie(ctx, error);
      throw error;
    }
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Ends every session of the caller. Requires authentication." })
  async logoutAll(@Ctx() ctx: Context) {
    const ended = await ctx.services.accounts.logoutAll(await ctx.requireViewer());
    ctx.refreshCookie.clear();
    return ended;
  }

  @Authorized()
  @UseMiddleware(RateLimit("changePassword"))
  @Mutation(() => Boolean, { description: "Requires authentication; ends every other session of the caller." })
  async changePassword(
    @Arg("currentPassword", () => String) currentPassword: string,
    @Arg("newPassword", () => String) newPassword: string,
    @Ctx() ctx: Context,
  ) {
    return ctx.services.accounts.changePassword(await ctx.requireViewer(), currentPassword, newPassword, ctx.client);
  }

  @Authorized()
  // Counted with changePassword's failures: both check the account's password, so a stolen
  // access token buys one allowance of guesses at it, not one per mutation.
  @UseMiddleware(RateLimit("changePassword"))
  @Mutation(() => Boolean, {
    description:
      "Deletes the caller's account, with every session of it, once its password is confirmed. Requires authentication. An ADMIN account is refused (FORBIDDEN): another admin makes it a USER first.",
  })
  async deleteAccount(@Arg("password", () => String) password: string, @Ctx() ctx: Context) {
    const deleted = await ctx.services.accounts.deleteAccount(await ctx.requireViewer(), password, ctx.client);
    ctx.refreshCookie.clear();
    return deleted;
  }
}
