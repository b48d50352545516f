import { Arg, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from "type-graphql";
import type { UserView } from "../../db/schema";
import { forbidden } from "../../errors";
import type { Context } from "../context";
import { UpdateProfileInput } from "../inputs/update-profile.input";
import { Role, User } from "../types/user.type";

/**
 * email, role, emailVerified and pendingEmail are for the account itself and for admins only
 * (the contract says so of the first three). The rest, active among them, is for anyone who
 * knows the id: a gateway showing another subgraph's authors may ask for them, and a FORBIDDEN
 * on a non-null field would null the whole entity.
 */
async function assertSelfOrAdmin(ctx: Context, user: UserView): Promise<void> {
  if (ctx.provenOwnerOf.has(user.id)) return;
  const viewer = await ctx.viewer();
  if (viewer?.user.id !== user.id && viewer?.user.role !== "ADMIN") throw forbidden("Not visible to you");
}

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, { nullable: true, description: "The caller's account; null when the request carries no access token." })
  async me(@Ctx() ctx: Context): Promise<UserView | null> {
    return (await ctx.viewer())?.user ?? null;
  }

  @Authorized()
  @Mutation(() => User, { description: "Changes the caller's profile and returns it. Requires authentication." })
  async updateProfile(@Arg("input", () => UpdateProfileInput) input: UpdateProfileInput, @Ctx() ctx: Context): Promise<UserView> {
    return ctx.services.accounts.updateProfile(await ctx.requireViewer(), input);
  }

  @FieldResolver(() => String)
  async email(@Root() user: UserView, @Ctx() ctx: Context): Promise<string> {
    await assertSelfOrAdmin(ctx, user);
    return user.email;
  }

  @FieldResolver(() => Role)
  async role(@Root() user: UserView, @Ctx() ctx: Context): Promise<string> {
    await assertSelfOrAdmin(ctx, user);
    return user.role;
  }

  @FieldResolver(() => String, {
    nullable: true,
    description:
      "The address a change was asked for (requestEmailChange) while the link sent there can still make it: not yet opened, expired, cancelled or retired. Null otherwise.",
  })
  async pendingEmail(@Root() user: UserView, @Ctx() ctx: Context): Promise<string | null> {
    await assertSelfOrAdmin(ctx, user);
    // The link is bound to the token version, which an account as shown does not carry.
    const viewer = await ctx.viewer();
    const account = viewer?.user.id === user.id ? viewer.user : await ctx.services.users.findById(user.id);
    return account ? ctx.services.emailVerification.pendingChange(account) : null;
  }

  @FieldResolver(() => Boolean)
  async emailVerified(@Root() user: UserView, @Ctx() ctx: Context): Promise<boolean> {
    await assertSelfOrAdmin(ctx, user);
    return user.emailVerified;
  }
}
