import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { checkId } from "../../auth/ids";
import { encodeCursor } from "../../auth/user-admin";
import type { UserView } from "../../db/schema";
import type { Context } from "../context";
import { UserConnection } from "../types/user-connection.type";
import { Role, User } from "../types/user.type";

/** What `users` resolves to: its page, and the search that totalCount counts. */
type UserConnectionRoot = Omit<UserConnection, "totalCount"> & { search: string | null };

@Resolver(() => UserConnection)
export class UserConnectionResolver {
  /** Counted only when a query selects it: a count reads every matching user. */
  @FieldResolver(() => Int)
  totalCount(@Root() connection: UserConnectionRoot, @Ctx() ctx: Context): Promise<number> {
    return ctx.services.userAdmin.count(connection.search);
  }
}

@Authorized("ADMIN")
@Resolver()
export class AdminResolver {
  @Query(() => UserConnection, { description: "ADMIN only. Newest first." })
  async users(
    @Arg("first", () => Int, { nullable: true, defaultValue: 20 }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Arg("search", () => String, { nullable: true }) search: string | null,
    @Ctx() ctx: Context,
  ) {
    const page = await ctx.services.userAdmin.list({ first: first ?? 20, after, search });
    const edges = page.users.map((user) => ({ cursor: encodeCursor(user), node: user }));
    const connection: UserConnectionRoot = { edges, pageInfo: { hasNextPage: page.hasNextPage, endCursor: edges.at(-1)?.cursor ?? null }, search };
    return connection;
  }

  @Query(() => User, { nullable: true, description: "ADMIN only." })
  user(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<UserView | null> {
    return ctx.loaders.userById.load(checkId(id));
  }

  @Mutation(() => User, { description: "ADMIN only. Deactivating ends every session of the account." })
  async setUserActive(@Arg("id", () => ID) id: string, @Arg("active", () => Boolean) active: boolean, @Ctx() ctx: Context) {
    const viewer = await ctx.requireViewer();
    return ctx.services.userAdmin.setActive(viewer.user.id, id, active, ctx.client);
  }

  @Mutation(() => User, { description: "ADMIN only." })
  async setUserRole(@Arg("id", () => ID) id: string, @Arg("role", () => Role) role: Role, @Ctx() ctx: Context) {
    const viewer = await ctx.requireViewer();
    return ctx.services.userAdmin.setRole(viewer.user.id, id, role, ctx.client);
  }

  @Mutation(() => Boolean, { description: "ADMIN only. Deletes a USER account with every session of it; an ADMIN account is made a USER first (FORBIDDEN)." })
  async deleteUser(@Arg("id", () => ID) id: string, @Ctx() ctx: Context) {
    const viewer = await ctx.requireViewer();
    return ctx.services.userAdmin.deleteUser(viewer.user.id, id, ctx.client);
  }
}
