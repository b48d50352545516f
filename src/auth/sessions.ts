import { and, desc, eq, gt, isNull, ne, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { refreshTokens, sessions, users, type SessionRow, type UserRow } from "../db/schema";
import { unauthenticated } from "../errors";
import { generateToken, hashToken } from "./opaque-tokens";
import { sealSuccessor, unsealSuccessor } from "./refresh-tokens";
import type { SecurityEvents } from "./security-events";

/** Where a request came from, recorded on the session it starts or refreshes. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

export interface IssuedRefreshToken {
  sessionId: string;
  userId: string;
  refreshToken: string;
}

export type EndReason = "logout" | "logout_all" | "revoked" | "password_changed" | "password_reset" | "deactivated" | "refresh_token_reuse";

export type Sessions = ReturnType<typeof createSessions>;

const MAX_USER_AGENT = 512;
const invalidRefreshToken = () => unauthenticated("Invalid or expired refresh token");

/**
 * Sessions are refresh-token families. Every rotation is decided by one conditional UPDATE,
 * so when the same token races against itself PostgreSQL lets exactly one request rotate it.
 */
export function createSessions(deps: { db: Db; config: Config["sessions"]; events?: Pick<SecurityEvents, "refreshTokenReused">; now?: () => Date }) {
  const { db, config } = deps;
  const now = deps.now ?? (() => new Date());
  const successor = alias(refreshTokens, "successor");

  const liveSessionUser = db
    .select({ user: users, endedAt: sessions.endedAt, expiresAt: sessions.expiresAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.id, sql.placeholder("sessionId")), eq(sessions.userId, sql.placeholder("userId"))))
    .prepare("live_session_user");

  const expiresAt = (from: Date) => new Date(from.getTime() + config.refreshTokenTtl * 1000);
  const clientColumns = (client: ClientInfo) => ({ ip: client.ip, userAgent: client.userAgent?.slice(0, MAX_USER_AGENT) ?? null });

  /** The token was not rotated by this call: decide between a second tab's retry and a replay. */
  async function settleRetiredToken(tokenHash: string, token: string, at: Date): Promise<IssuedRefreshToken> {
    const [found] = await db
      .select({ token: refreshTokens, session: sessions, successorRotatedAt: successor.rotatedAt })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .leftJoin(successor, eq(successor.tokenHash, refreshTokens.successorHash))
      .where(eq(refreshTokens.tokenHash, tokenHash));
    if (!found || found.session.endedAt || found.session.expiresAt <= at || !found.token.rotatedAt) {
      throw invalidRefreshToken();
    }
    const { token: retired, session } = found;
    const isPrevious = retired.successorSealed !== null && found.successorRotatedAt === null;
    const withinInterval = at.getTime() - retired.rotatedAt!.getTime() <= config.reuseInterval * 1000;
    if (isPrevious && withinInterval && config.reuseInterval > 0) {
      return { sessionId: session.id, userId: session.userId, refreshToken: unsealSuccessor(retired.successorSealed!, token) };
    }
    // Any other replay of a retired token means two parties hold this family: end it.
    await endSession(session.id, "refresh_token_reuse", at);
    deps.events?.refreshTokenReused(session.userId, session.id);
    throw invalidRefreshToken();
  }

  async function endSession(id: string, reason: EndReason, at: Date): Promise<void> {
    await db.update(sessions).set({ endedAt: at, endReason: reason }).where(and(eq(sessions.id, id), isNull(sessions.endedAt)));
  }

  return {
    async start(userId: string, client: ClientInfo): Promise<IssuedRefreshToken> {
      const at = now();
      const refreshToken = generateToken();
      const sessionId = await db.transaction(async (tx) => {
        const [session] = await tx
          .insert(sessions)
          .values({ userId, createdAt: at, lastUsedAt: at, expiresAt: expiresAt(at), ...clientColumns(client) })
          .returning({ id: sessions.id });
        await tx.insert(refreshTokens).values({ tokenHash: hashToken(refreshToken), sessionId: session!.id, createdAt: at });
        return session!.id;
      });
      return { sessionId, userId, refreshToken };
    },

    /** Retires the presented token and returns its successor, or settles a retry or a replay. */
    async rotate(token: string, client: ClientInfo): Promise<IssuedRefreshToken> {
      const at = now();
      const tokenHash = hashToken(token);
      const next = generateToken();
      const nextHash = hashToken(next);
      const rotated = await db.transaction(async (tx) => {
        const [row] = await tx
          .update(refreshTokens)
          .set({ rotatedAt: at, successorHash: nextHash, successorSealed: sealSuccessor(next, token) })
          .from(sessions)
          .where(
            and(
              eq(refreshTokens.tokenHash, tokenHash),
              isNull(refreshTokens.rotatedAt),
              eq(sessions.id, refreshTokens.sessionId),
              isNull(sessions.endedAt),
              gt(sessions.expiresAt, at),
            ),
          )
          .returning({ sessionId: sessions.id, userId: sessions.userId });
        if (!row) return null;
        await tx.insert(refreshTokens).values({ tokenHash: nextHash, sessionId: row.sessionId, createdAt: at });
        await tx
          .update(sessions)
          .set({ lastUsedAt: at, expiresAt: expiresAt(at), ...clientColumns(client) })
          .where(eq(sessions.id, row.sessionId));
        return row;
      });
      if (rotated) return { ...rotated, refreshToken: next };
      return settleRetiredToken(tokenHash, token, at);
    },

    /** Ends the session of a current (or just-rotated) refresh token. */
    async endByToken(token: string): Promise<boolean> {
      const at = now();
      const graceStart = new Date(at.getTime() - config.reuseInterval * 1000);
      const ended = await db
        .update(sessions)
        .set({ endedAt: at, endReason: "logout" })
        .from(refreshTokens)
        .where(
          and(
            eq(refreshTokens.tokenHash, hashToken(token)),
            eq(sessions.id, refreshTokens.sessionId),
            isNull(sessions.endedAt),
            or(isNull(refreshTokens.rotatedAt), gt(refreshTokens.rotatedAt, graceStart)),
          ),
        )
        .returning({ id: sessions.id });
      if (ended.length === 0) throw invalidRefreshToken();
      return true;
    },

    /** Ends one live session of a user. Returns false when the user has no such live session. */
    async end(userId: string, sessionId: string, reason: EndReason): Promise<boolean> {
      const ended = await db
        .update(sessions)
        .set({ endedAt: now(), endReason: reason })
        .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.endedAt)))
        .returning({ id: sessions.id });
      return ended.length > 0;
    },

    /** Ends every live session of a user, but for `except` when given. */
    async endAll(userId: string, reason: EndReason, except?: string): Promise<void> {
      await db
        .update(sessions)
        .set({ endedAt: now(), endReason: reason })
        .where(and(eq(sessions.userId, userId), isNull(sessions.endedAt), except ? ne(sessions.id, except) : undefined));
    },

    async listLive(userId: string): Promise<SessionRow[]> {
      return db
        .select()
        .from(sessions)
        .where(and(eq(sessions.userId, userId), isNull(sessions.endedAt), gt(sessions.expiresAt, now())))
        .orderBy(desc(sessions.lastUsedAt));
    },

    /** The user behind a live session, in one query; null when the session has ended or expired. */
    async findLiveSessionUser(sessionId: string, userId: string): Promise<UserRow | null> {
      const [row] = await liveSessionUser.execute({ sessionId, userId });
      if (!row || row.endedAt || row.expiresAt <= now()) return null;
      return row.user;
    },
  };
}
