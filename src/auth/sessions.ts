import { and, desc, eq, gt, inArray, isNull, lt, ne, or, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { knownDevices, refreshTokens, sessions, users, type SessionRow, type UserRow } from "../db/schema";
import { sharedLookup } from "../db/shared-lookup";
import { invalidRefreshToken } from "../errors";
import { generateToken, hashToken } from "./opaque-tokens";
import { sealSuccessor, unsealSuccessor } from "./refresh-tokens";
import { isUuid } from "./ids";
import type { SecurityEvents } from "./security-events";

/**
 * Where a request came from: its address and user agent are recorded on the session it starts
 * or refreshes, and security events carry its address and request id, so an event's line
 * joins the request's own line in the log.
 */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export interface IssuedRefreshToken {
  sessionId: string;
  userId: string;
  refreshToken: string;
}

/** A sign-in's session, and whether it came from a device the account had not signed in from. */
export interface StartedSession extends IssuedRefreshToken {
  newDevice: boolean;
}

/** A refresh's successor, with the account as the refresh read it. */
export interface RotatedRefreshToken extends IssuedRefreshToken {
  user: UserRow;
}

export type EndReason = "logout" | "logout_all" | "revoked" | "password_changed" | "password_reset" | "email_change_reverted" | "deactivated" | "refresh_token_reuse";

export type Sessions = ReturnType<typeof createSessions>;

/**
 * The UPDATE that ends every live session whose owner `owner` matches (a condition on
 * sessions.user_id), but for `except`: a statement of its own (Sessions.endAll), or the second
 * of a transaction, so that ending them is atomic with the change that calls for it (updateUser).
 */
export function endSessionsOf(db: Db, owner: SQL, reason: EndReason, at: Date, except?: string) {
  return db
    .update(sessions)
    .set({ endedAt: at, endReason: reason })
    .where(and(owner, isNull(sessions.endedAt), except ? ne(sessions.id, except) : undefined));
}

const MAX_USER_AGENT = 512;

/** A device the account was not signed in from for this long is new again. */
export const KNOWN_DEVICE_DAYS = 90;

/**
 * How long an ended or expired session is kept before purgeEnded deletes it. Instances' clocks
 * differ: one running ahead must never delete a session another still treats as live. And for a
 * day the row still says when and why a session ended, for whoever asks why they were signed out.
 */
export const PURGE_GRACE_MS = 24 * 60 * 60 * 1000;
// Sessions per DELETE, each with every refresh token it ever handed out (a busy month's worth
// runs to thousands): small enough that one statement holds its locks briefly.
const PURGE_BATCH_SIZE = 100;
// Sessions found by one scan of the table, then deleted in batches by id: neither column the
// purge matches on is indexed (an index on expires_at, which every refresh writes, would cost
// each rotation its HOT update), so each scan reads the table.
const PURGE_SCAN_LIMIT = 10_000;

/**
 * Sessions are refresh-token families. Every rotation is decided by one conditional UPDATE,
 * so when the same token races against itself PostgreSQL lets exactly one request rotate it.
 */
export function createSessions(deps: { db: Db; config: Config["sessions"]; events?: Pick<SecurityEvents, "refreshTokenReused">; now?: () => Date }) {
  const { db, config } = deps;
  const now = deps.now ?? (() => new Date());
  const successor = alias(refreshTokens, "successor");

  // The session check of every authenticated request. Checks that arrive in the same turn of
  // the event loop share one prepared query (db/shared-lookup.ts): each request still sees the
  // database as it is when it asks, and under load one round trip answers many of them.
  const liveSessionUsers = db
    .select({ user: users, sessionId: sessions.id, endedAt: sessions.endedAt, expiresAt: sessions.expiresAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(sql`${sessions.id} = any(${sql.placeholder("ids")}::uuid[])`)
    .prepare("live_session_users");
  type SessionUser = Awaited<ReturnType<typeof liveSessionUsers.execute>>[number];
  const sessionChecks = sharedLookup<SessionUser>((ids) => liveSessionUsers.execute({ ids }), (row) => row.sessionId, 200);

  const purgeable = or(lt(sessions.endedAt, sql.placeholder("cutoff")), lt(sessions.expiresAt, sql.placeholder("cutoff")));
  const purgeableSessions = db.select({ id: sessions.id }).from(sessions).where(purgeable).limit(sql.placeholder("limit")).prepare("purgeable_sessions");
  // The condition is checked again: a session found ended may have been deleted by another
  // instance meanwhile. SKIP LOCKED: instances purging at once take different rows instead of
  // queueing behind each other, and a row a request holds waits for the next run.
  const purgeSessions = db
    .delete(sessions)
    .where(
      inArray(
        sessions.id,
        db
          .select({ id: sessions.id })
          .from(sessions)
          .where(and(sql`${sessions.id} = any(${sql.placeholder("ids")}::uuid[])`, purgeable))
          .for("update", { skipLocked: true }),
      ),
    )
    .returning({ id: sessions.id })
    .prepare("purge_sessions");

  const timestamp = (name: string) => sql`${sql.placeholder(name)}::timestamptz`;

  // A sign-in: the account check, the session and its first token in one statement (one round
  // trip, atomic without a transaction), prepared once. FOR SHARE makes a concurrent change of
  // the account wait for this insert (then its end of every session sees this one), or this
  // insert wait for the change and then find the row changed.
  const account = db.$with("account", {}).as(sql`
    select id from users
    where id = ${sql.placeholder("userId")}::uuid and active and token_version = ${sql.placeholder("tokenVersion")}
    for share`);
  const opened = db.$with("opened", {}).as(sql`
    insert into sessions (user_id, created_at, last_used_at, expires_at, ip, user_agent)
    select id, ${timestamp("at")}, ${timestamp("at")}, ${timestamp("expiresAt")}, ${sql.placeholder("ip")}, ${sql.placeholder("userAgent")} from account
    returning id`);
  const firstToken = db.$with("first_token", { sessionId: sql<string>`session_id`.as("session_id") }).as(sql`
    insert into refresh_tokens (token_hash, session_id, created_at)
    select ${sql.placeholder("tokenHash")}, id, ${timestamp("at")} from opened
    returning session_id`);
  // A device is its user agent without version numbers (a browser's update is no new device),
  // hashed to one size. It is new to an account that had been signed in before (an account's
  // first session, its registration's, is none) when no session still kept has it and the
  // account was not signed in from it within KNOWN_DEVICE_DAYS. Both are read as the statement
  // began, without what it writes. The known device's key is looked up first: it answers most
  // sign-ins, before the account's sessions (thousands, for a client that signs in every
  // minute) have their user agents reduced one by one.
  const device = (userAgent: SQL) => sql`md5(coalesce(regexp_replace(${userAgent}, '[0-9]+', '', 'g'), ''))`;
  const signingInDevice = device(sql`${sql.placeholder("userAgent")}::text`);
  const since = sql`${timestamp("at")} - make_interval(days => ${KNOWN_DEVICE_DAYS})`;
  const newDevice = sql<boolean>`(
    (exists (select 1 from sessions where user_id = ${sql.placeholder("userId")}::uuid)
      or exists (select 1 from known_devices where user_id = ${sql.placeholder("userId")}::uuid))
    and not exists (
      select 1 from known_devices
      where user_id = ${sql.placeholder("userId")}::uuid and device = ${signingInDevice} and last_signed_in_at > ${since}
    )
    and not exists (select 1 from sessions where user_id = ${sql.placeholder("userId")}::uuid and ${device(sql`user_agent`)} = ${signingInDevice}))`;
  const seen = db.$with("seen", {}).as(sql`
    insert into known_devices (user_id, device, last_signed_in_at)
    select id, ${signingInDevice}, ${timestamp("at")} from account
    on conflict (user_id, device) do update set last_signed_in_at = excluded.last_signed_in_at`);
  const sessionStart = db.with(account, opened, firstToken, seen).select({ sessionId: firstToken.sessionId, newDevice }).from(firstToken).prepare("start_session");

  // A refresh: one statement, one round trip, prepared once. The conditional UPDATE retires the
  // token only while it is current and its session live (of racing requests PostgreSQL lets
  // exactly one through), and only then do the successor and the session's new expiry get
  // written, and the account read. The session is locked first, so a rotation that waited for a
  // concurrent end (a logoutAll, a revocation, a password change) reads the session as that end
  // left it, and rotates nothing in a session that has ended. (CTEs of a drizzle select, so the
  // account comes back as a typed row.) The account is read as the statement began: a change of
  // it that commits while the rotation waits for the session's lock (held by no path of the
  // service that leaves the session live) is missed, and the new access token, of the old
  // version, is refused at its first use.
  const live = db.$with("live", {}).as(sql`
    select sessions.id, sessions.user_id
    from sessions
    join refresh_tokens on refresh_tokens.session_id = sessions.id
    where refresh_tokens.token_hash = ${sql.placeholder("tokenHash")}
      and sessions.ended_at is null
      and sessions.expires_at > ${timestamp("stamp")}
    for no key update of sessions`);
  const retired = db.$with("retired", { sessionId: sql<string>`session_id`.as("session_id"), userId: sql<string>`user_id`.as("user_id") }).as(sql`
    update refresh_tokens
    set rotated_at = ${timestamp("stamp")}, successor_hash = ${sql.placeholder("nextHash")}, successor_sealed = ${sql.placeholder("sealed")}
    from live
    where refresh_tokens.token_hash = ${sql.placeholder("tokenHash")}
      and refresh_tokens.rotated_at is null
      and refresh_tokens.session_id = live.id
    returning live.id as session_id, live.user_id`);
  const added = db.$with("added", {}).as(sql`
    insert into refresh_tokens (token_hash, session_id, created_at)
    select ${sql.placeholder("nextHash")}, session_id, ${timestamp("stamp")} from retired`);
  const renewed = db.$with("renewed", {}).as(sql`
    update sessions
    set last_used_at = ${timestamp("stamp")}, expires_at = ${timestamp("expiresAt")}, ip = ${sql.placeholder("ip")}, user_agent = ${sql.placeholder("userAgent")}
    from retired
    where sessions.id = retired.session_id`);
  const rotation = db
    .with(live, retired, added, renewed)
    .select({ sessionId: retired.sessionId, user: users })
    .from(retired)
    .innerJoin(users, eq(users.id, retired.userId))
    .prepare("rotate_refresh_token");

  const expiresAt = (from: string) => new Date(Date.parse(from) + config.refreshTokenTtl * 1000).toISOString();
  const clientColumns = (client: ClientInfo) => ({ ip: client.ip, userAgent: client.userAgent?.slice(0, MAX_USER_AGENT) ?? null });

  /** The token was not rotated by this call: decide between a second tab's retry and a replay. */
  async function settleRetiredToken(tokenHash: string, token: string, at: Date, client: ClientInfo): Promise<RotatedRefreshToken> {
    const [found] = await db
      .select({ token: refreshTokens, session: sessions, user: users, successorRotatedAt: successor.rotatedAt })
      .from(refreshTokens)
      .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
      .innerJoin(users, eq(users.id, sessions.userId))
      .leftJoin(successor, eq(successor.tokenHash, refreshTokens.successorHash))
      .where(eq(refreshTokens.tokenHash, tokenHash));
    if (!found || found.session.endedAt || found.session.expiresAt <= at || !found.token.rotatedAt) {
      throw invalidRefreshToken();
    }
    const { session } = found;
    const { rotatedAt, successorSealed } = found.token;
    const isPrevious = successorSealed !== null && found.successorRotatedAt === null;
    const withinInterval = at.getTime() - rotatedAt.getTime() <= config.reuseInterval * 1000;
    if (isPrevious && withinInterval && config.reuseInterval > 0) {
      return { sessionId: session.id, userId: session.userId, refreshToken: unsealSuccessor(successorSealed, token), user: found.user };
    }
    // Any other replay of a retired token means two parties hold this family: end it.
    await end(session.userId, session.id, "refresh_token_reuse");
    deps.events?.refreshTokenReused(session.userId, session.id, client);
    throw invalidRefreshToken();
  }

  /** Ends one live session of a user. Returns false when the user has no such live session. */
  async function end(userId: string, sessionId: string, reason: EndReason): Promise<boolean> {
    const ended = await db
      .update(sessions)
      .set({ endedAt: now(), endReason: reason })
      .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.endedAt)))
      .returning({ id: sessions.id });
    return ended.length > 0;
  }

  return {
    /**
     * Starts a session for an account as the caller read it: only while it is still active and
     * at the same token version. Null otherwise: a password change, a reset or a deactivation
     * landed between the read and now (a login's argon2 check takes tens of milliseconds), and
     * a session started after it had ended every other one would outlive it.
     */
    async start(account: Pick<UserRow, "id" | "tokenVersion">, client: ClientInfo): Promise<StartedSession | null> {
      const at = now().toISOString();
      const refreshToken = generateToken();
      const { ip, userAgent } = clientColumns(client);
      const [row] = await sessionStart.execute({ userId: account.id, tokenVersion: account.tokenVersion, at, expiresAt: expiresAt(at), ip, userAgent, tokenHash: hashToken(refreshToken) });
      return row ? { sessionId: row.sessionId, userId: account.id, refreshToken, newDevice: row.newDevice } : null;
    },

    /** Retires the presented token and returns its successor, or settles a retry or a replay. */
    async rotate(token: string, client: ClientInfo): Promise<RotatedRefreshToken> {
      const at = now();
      const tokenHash = hashToken(token);
      const next = generateToken();
      const nextHash = hashToken(next);
      const { ip, userAgent } = clientColumns(client);
      const stamp = at.toISOString();
      const [rotated] = await rotation.execute({
        tokenHash,
        nextHash,
        sealed: sealSuccessor(next, token),
        stamp,
        expiresAt: expiresAt(stamp),
        ip,
        userAgent,
      });
      if (rotated) return { sessionId: rotated.sessionId, userId: rotated.user.id, refreshToken: next, user: rotated.user };
      return settleRetiredToken(tokenHash, token, at, client);
    },

    /**
     * Ends the session of a current refresh token. The previous token within the reuse interval
     * (a second tab) ends it too; any other retired token is a replay, and ends its family as a
     * refresh would.
     */
    async endByToken(token: string, client: ClientInfo): Promise<boolean> {
      const at = now();
      const tokenHash = hashToken(token);
      const ended = await db
        .update(sessions)
        .set({ endedAt: at, endReason: "logout" })
        .from(refreshTokens)
        .where(and(eq(refreshTokens.tokenHash, tokenHash), eq(sessions.id, refreshTokens.sessionId), isNull(sessions.endedAt), isNull(refreshTokens.rotatedAt)))
        .returning({ id: sessions.id });
      if (ended.length > 0) return true;
      const retry = await settleRetiredToken(tokenHash, token, at, client);
      if (!(await end(retry.userId, retry.sessionId, "logout"))) throw invalidRefreshToken();
      return true;
    },

    end,

    /** Ends every live session of a user, but for `except` when given. */
    async endAll(userId: string, reason: EndReason, except?: string): Promise<void> {
      await endSessionsOf(db, eq(sessions.userId, userId), reason, now(), except);
    },

    async listLive(userId: string): Promise<SessionRow[]> {
      return db
        .select()
        .from(sessions)
        .where(and(eq(sessions.userId, userId), isNull(sessions.endedAt), gt(sessions.expiresAt, now())))
        .orderBy(desc(sessions.lastUsedAt));
    },

    /**
     * Deletes the sessions that ended or expired more than PURGE_GRACE_MS before `at`; their
     * refresh tokens go with them (ON DELETE CASCADE). Each scan finds up to PURGE_SCAN_LIMIT,
     * deleted PURGE_BATCH_SIZE per statement; it stops after a scan that comes back short, a
     * pass that deleted nothing (the rows it found are held by others: a scan again would find
     * them again), or once `signal` aborts (after the batch under way). Returns how many
     * sessions were deleted.
     */
    async purgeEnded(options: { at?: Date; signal?: AbortSignal } = {}): Promise<number> {
      // As text: placeholder values skip the column's own mapping of a Date.
      const cutoff = new Date((options.at ?? now()).getTime() - PURGE_GRACE_MS).toISOString();
      let deleted = 0;
      for (;;) {
        const found = await purgeableSessions.execute({ cutoff, limit: PURGE_SCAN_LIMIT });
        const deletedBefore = deleted;
        for (let start = 0; start < found.length; start += PURGE_BATCH_SIZE) {
          const ids = found.slice(start, start + PURGE_BATCH_SIZE).map((row) => row.id);
          deleted += (await purgeSessions.execute({ ids, cutoff })).length;
          if (options.signal?.aborted) return deleted;
        }
        if (found.length < PURGE_SCAN_LIMIT || deleted === deletedBefore) return deleted;
      }
    },

    /** Deletes the devices an account was not signed in from for KNOWN_DEVICE_DAYS: they are new again. */
    async purgeForgottenDevices(at: Date = now()): Promise<number> {
      const cutoff = new Date(at.getTime() - KNOWN_DEVICE_DAYS * 24 * 60 * 60 * 1000);
      return (await db.delete(knownDevices).where(lt(knownDevices.lastSignedInAt, cutoff)).returning({ userId: knownDevices.userId })).length;
    },

    /** The user behind a live session, in one query; null when the session has ended or expired. */
    async findLiveSessionUser(sessionId: string, userId: string): Promise<UserRow | null> {
      // One malformed id would fail the whole batch of other requests' checks.
      if (!isUuid(sessionId)) return null;
      const row = await sessionChecks.load(sessionId);
      if (!row || row.user.id !== userId || row.endedAt || row.expiresAt <= now()) return null;
      return row.user;
    },
  };
}
