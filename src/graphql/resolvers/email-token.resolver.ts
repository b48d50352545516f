import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from "type-graphql";
import type { UserView } from "../../db/schema";
import type { Context } from "../context";
import { RequireCaptcha } from "../middlewares/captcha";
import { RateLimit } from "../middlewares/rate-limit";
import { User } from "../types/user.type";

/** The flows that reach the user by email: password reset, address verification, change and its revert. */
@Resolver()
export class EmailTokenResolver {
  @UseMiddleware(RateLimit("requestPasswordReset"), RequireCaptcha)
  @Mutation(() => Boolean, { description: "Always true, whether or not the address has an account." })
  requestPasswordReset(
    @Arg("email", () => String) email: string,
    // Read by RequireCaptcha.
    @Arg("captchaToken", () => String, { nullable: true }) _captchaToken: string | null,
    @Ctx() ctx: Context,
  ) {
    return ctx.services.passwordReset.request(email, ctx.client);
  }

  @UseMiddleware(RateLimit("resetPassword"))
  @Mutation(() => Boolean, { description: "Consumes the emailed token, sets the password and ends every session of the account." })
  resetPassword(@Arg("token", () => String) token: string, @Arg("newPassword", () => String) newPassword: string, @Ctx() ctx: Context) {
    return ctx.services.passwordReset.reset(token, newPassword, ctx.client);
  }

  @Authorized()
  @UseMiddleware(RateLimit("requestEmailVerification"))
  @Mutation(() => Boolean, { description: "Sends a new verification email to the caller. Requires authentication." })
  async requestEmailVerification(@Ctx() ctx: Context) {
    return ctx.services.emailVerification.send((await ctx.requireViewer()).user, ctx.client);
  }

  @Authorized()
  // The link is a verification email: once sent, it counts with requestEmailVerification's, per
  // account. A wrong password counts with changePassword's failures (deleteAccount's too).
  @UseMiddleware(RateLimit("requestEmailVerification"), RateLimit("changePassword"))
  @Mutation(() => Boolean, {
    description:
      "Emails newEmail a verify-email link that makes it the caller's address, verified, once opened; only the newest such link works. Requires authentication and the caller's password.",
  })
  async requestEmailChange(@Arg("newEmail", () => String) newEmail: string, @Arg("password", () => String) password: string, @Ctx() ctx: Context) {
    return ctx.services.accounts.requestEmailChange(await ctx.requireViewer(), newEmail, password, ctx.client);
  }

  @Authorized()
  @Mutation(() => Boolean, {
    description: "Retires the link of the caller's pending address change (requestEmailChange), if any: the address stays as it is. Always true. Requires authentication.",
  })
  async cancelEmailChange(@Ctx() ctx: Context) {
    await ctx.services.emailVerification.cancelChange((await ctx.requireViewer()).user.id);
    return true;
  }

  // Spends an emailed token and sets a password, as resetPassword does: the same guesses count.
  @UseMiddleware(RateLimit("resetPassword"))
  @Mutation(() => Boolean, {
    description:
      "Spends the link emailed to the address an account left when its address was changed: gives the account that address back, verified, sets the password and ends every session. Links of the changes made since stop working.",
  })
  revertEmailChange(@Arg("token", () => String) token: string, @Arg("newPassword", () => String) newPassword: string, @Ctx() ctx: Context) {
    return ctx.services.emailChangeRevert.revert(token, newPassword, ctx.client);
  }

  @UseMiddleware(RateLimit("verifyEmail"))
  @Mutation(() => User, { description: "Spends the emailed token: confirms the address, or, with a link from requestEmailChange, makes it the account's address." })
  async verifyEmail(@Arg("token", () => String) token: string, @Ctx() ctx: Context): Promise<UserView> {
    const user = await ctx.services.emailVerification.verify(token, ctx.client);
    // The emailed token proves the caller owns this account.
    ctx.provenOwnerOf.add(user.id);
    return user;
  }
}
