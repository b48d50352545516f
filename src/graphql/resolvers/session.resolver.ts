import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { checkId } from "../../auth/ids";
import { forbidden } from "../../errors";
import type { Context } from "../context";
import { Session } from "../types/session.type";

@Resolver(() => Session)
export class SessionResolver {
  @Authorized()
  @Query(() => [Session], { description: "The caller's live sessions (one per refresh-token family). Requires authentication." })
  async mySessions(@Ctx() ctx: Context): Promise<Session[]> {
    const viewer = await ctx.requireViewer();
    const sessions = await ctx.services.sessions.listLive(viewer.user.id);
    return sessions.map((session) => ({ ...session, current: session.id === viewer.sessionId }));
  }

  @Authorized()
  @Mutation(() => Boolean, { description: "Ends one of the caller's sessions. Requires authentication." })
  async revokeSession(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<boolean> {
    const viewer = await ctx.requireViewer();
    // Someone else's session and no session at all answer alike, so ids cannot be probed.
    if (!(await ctx.services.sessions.end(viewer.user.id, checkId(id), "revoked"))) throw forbidden("No such session");
    return true;
  }
}
