import { Arg, Authorized, Ctx, Mutation, Resolver } from "type-graphql";
import type { AuthResult } from "../../auth/accounts";
import type { Context } from "../context";
import { LoginInput } from "../inputs/login.input";
import { RegisterInput } from "../inputs/register.input";
import { AuthPayload } from "../types/auth-payload.type";

/** The caller just proved it owns the returned account, so it may read all of it. */
async function toOwner(ctx: Context, result: Promise<AuthResult>): Promise<AuthResult> {
  const payload = await result;
  ctx.provenOwnerOf.add(payload.user.id);
  return payload;
}

@Resolver()
export class AuthResolver {
  @Mutation(() => AuthPayload)
  register(@Arg("input", () => RegisterInput) input: RegisterInput, @Ctx() ctx: Context) {
    return toOwner(ctx, ctx.services.accounts.register(input, ctx.client));
  }

  @Mutation(() => AuthPayload)
  login(@Arg("input", () => LoginInput) input: LoginInput, @Ctx() ctx: Context) {
    return toOwner(ctx, ctx.services.accounts.login(input, ctx.client));
  }

  @Mutation(() => AuthPayload, { description: "Rotates: returns a new pair and retires the token passed in." })
  refreshToken(@Arg("refreshToken", () => String) refreshToken: string, @Ctx() ctx: Context) {
    return toOwner(ctx, ctx.services.accounts.refresh(refreshToken, ctx.client));
  }

  @Mutation(() => Boolean, { description: "Ends the session that this refresh token belongs to." })
  logout(@Arg("refreshToken", () => String) refreshToken: string, @Ctx() ctx: Context) {
    return ctx.services.accounts.logout(refreshToken);
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Ends every session of the caller. Requires authentication." })
  async logoutAll(@Ctx() ctx: Context) {
    return ctx.services.accounts.logoutAll(await ctx.requireViewer());
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Requires authentication; ends every other session of the caller." })
  async changePassword(
    @Arg("currentPassword", () => String) currentPassword: string,
    @Arg("newPassword", () => String) newPassword: string,
    @Ctx() ctx: Context,
  ) {
    return ctx.services.accounts.changePassword(await ctx.requireViewer(), currentPassword, newPassword);
  }
}
