import { eq, inArray, sql } from "drizzle-orm";
import { scheduleSessionPurge } from "../../src/auth/session-purge";
import { PURGE_GRACE_MS } from "../../src/auth/sessions";
import { refreshTokens, sessions } from "../../src/db/schema";
import { captureLogs } from "../helpers/log-capture";
import { planOf, type SentQuery } from "../helpers/query-plans";
import { AUTH_FIELDS, errorCode, register, startTestApp, STRONG_PASSWORD, type AuthPayload, type TestApp } from "../helpers/test-app";
import { waitFor } from "../helpers/wait-for";
import { testWithPostgres } from "../helpers/with-postgres";

const REFRESH = `mutation($token: String!) { refreshToken(refreshToken: $token) { ${AUTH_FIELDS} } }`;
const LOGOUT = `mutation($token: String!) { logout(refreshToken: $token) }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { ${AUTH_FIELDS} } }`;
const SESSIONS = `{ mySessions { id current } }`;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// An injected clock: the tests move time forward instead of sleeping.
const clock = { now: Date.now() };
const queries: SentQuery[] = [];
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(
    { REFRESH_TOKEN_REUSE_INTERVAL: "10", REFRESH_TOKEN_TTL: String(DAY / 1000) },
    { now: () => new Date(clock.now), onQuery: (text, parameters) => queries.push({ text, parameters }) },
  );
});
afterAll(() => t.close());
// Each test counts what a purge deletes, so it starts without the sessions earlier tests left behind.
beforeEach(() => t.app.database.db.execute(sql`delete from sessions`));

const purge = () => t.app.services.sessions.purgeEnded();
const refresh = (token: string) => t.gql<{ refreshToken: AuthPayload }>(REFRESH, { token });
async function refreshed(token: string): Promise<AuthPayload> {
  const res = await refresh(token);
  if (!res.data?.refreshToken) throw new Error(JSON.stringify(res.errors));
  return res.data.refreshToken;
}
async function logout(token: string): Promise<void> {
  expect((await t.gql(LOGOUT, { token })).data).toEqual({ logout: true });
}

/** A user's sessions and their refresh tokens, as stored. */
async function storedFor(userId: string): Promise<{ sessionIds: string[]; tokens: number }> {
  const db = t.app.database.db;
  const rows = await db.select({ id: sessions.id }).from(sessions).where(eq(sessions.userId, userId));
  const sessionIds = rows.map((row) => row.id);
  return { sessionIds, tokens: await tokensOf(sessionIds) };
}

/** Refresh tokens of these sessions, counted without going through the sessions table. */
async function tokensOf(sessionIds: string[]): Promise<number> {
  if (sessionIds.length === 0) return 0;
  const rows = await t.app.database.db.select({ hash: refreshTokens.tokenHash }).from(refreshTokens).where(inArray(refreshTokens.sessionId, sessionIds));
  return rows.length;
}

/** `count` sessions of a user that ended at `endedAt`, with two refresh tokens each, written directly. */
async function insertEndedSessions(userId: string, count: number, endedAt: Date): Promise<void> {
  const at = endedAt.toISOString();
  await t.app.database.db.execute(sql`
    with ended as (
      insert into sessions (user_id, created_at, last_used_at, expires_at, ended_at, end_reason)
      select ${userId}::uuid, ${at}::timestamptz, ${at}::timestamptz, ${at}::timestamptz + interval '1 day', ${at}::timestamptz, 'logout'
      from generate_series(1, ${count})
      returning id
    )
    insert into refresh_tokens (token_hash, session_id, created_at)
    select gen_random_uuid()::text, ended.id, ${at}::timestamptz from ended, generate_series(1, 2)`);
}

describe("purgeEnded", () => {
  test("deletes sessions ended or expired more than a day ago, with their refresh tokens, and counts them", async () => {
    const ended = await register(t);
    await logout((await refreshed(ended.refreshToken)).refreshToken);
    const expired = await register(t);
    await refreshed(expired.refreshToken);
    const before = { ended: await storedFor(ended.user.id), expired: await storedFor(expired.user.id) };
    expect(before.ended.tokens).toBe(2);
    expect(before.expired.tokens).toBe(2);

    clock.now += DAY + PURGE_GRACE_MS + MINUTE;
    const live = await register(t);
    await refreshed(live.refreshToken);

    expect(await purge()).toBe(2);
    expect(await storedFor(ended.user.id)).toEqual({ sessionIds: [], tokens: 0 });
    expect(await storedFor(expired.user.id)).toEqual({ sessionIds: [], tokens: 0 });
    expect(await tokensOf([...before.ended.sessionIds, ...before.expired.sessionIds])).toBe(0);
    expect((await storedFor(live.user.id)).tokens).toBe(2);
    expect(await purge()).toBe(0);
  });

  test("keeps sessions ended or expired less than a day ago", async () => {
    const ended = await register(t);
    await logout(ended.refreshToken);
    clock.now += 2 * HOUR;
    const expired = await register(t);
    clock.now += PURGE_GRACE_MS - 2 * HOUR - MINUTE;
    expect(await purge()).toBe(0);
    expect((await storedFor(ended.user.id)).tokens).toBe(1);

    clock.now += 2 * MINUTE;
    expect(await purge()).toBe(1);
    expect(await storedFor(ended.user.id)).toEqual({ sessionIds: [], tokens: 0 });
    expect((await storedFor(expired.user.id)).tokens).toBe(1);

    // Registered two hours after the other, it expires a day later (REFRESH_TOKEN_TTL).
    clock.now += 2 * HOUR + DAY - 2 * MINUTE;
    expect(await purge()).toBe(0);
    expect((await storedFor(expired.user.id)).tokens).toBe(1);
    clock.now += 2 * MINUTE;
    expect(await purge()).toBe(1);
    expect(await storedFor(expired.user.id)).toEqual({ sessionIds: [], tokens: 0 });
  });

  test("a live session lists, rotates and detects reuse as before once its ended siblings are purged", async () => {
    const auth = await register(t);
    const other = (await t.gql<{ login: AuthPayload }>(LOGIN, { email: auth.user.email, password: STRONG_PASSWORD })).data!.login;
    await logout(other.refreshToken);
    const first = await refreshed(auth.refreshToken);
    clock.now += DAY - HOUR;
    const second = await refreshed(first.refreshToken);
    clock.now += HOUR + MINUTE;

    expect(await purge()).toBe(1);
    const kept = await storedFor(auth.user.id);
    expect(kept.sessionIds).toHaveLength(1);
    expect(kept.tokens).toBe(3);
    expect(errorCode(await refresh(other.refreshToken))).toBe("UNAUTHENTICATED");

    const third = await refreshed(second.refreshToken);
    const listed = await t.gql(SESSIONS, {}, { token: third.accessToken });
    expect(listed.data?.mySessions).toEqual([{ id: kept.sessionIds[0], current: true }]);
    clock.now += 5_000;
    expect((await refreshed(second.refreshToken)).refreshToken).toBe(third.refreshToken);
    expect(errorCode(await refresh(first.refreshToken))).toBe("UNAUTHENTICATED");
    expect(errorCode(await refresh(third.refreshToken))).toBe("UNAUTHENTICATED");
    expect(errorCode(await t.gql(SESSIONS, {}, { token: third.accessToken }))).toBe("UNAUTHENTICATED");
  });

  test("finds the sessions with one scan of the table, then deletes them in batches by id, until none are left", async () => {
    const auth = await register(t);
    await insertEndedSessions(auth.user.id, 250, new Date(clock.now - PURGE_GRACE_MS - MINUTE));
    queries.length = 0;
    expect(await purge()).toBe(250);
    const scans = queries.filter((query) => /^select "id" from "sessions"/.test(query.text));
    const deletes = queries.filter((query) => /^delete from "sessions"/.test(query.text));
    expect(await storedFor(auth.user.id)).toMatchObject({ sessionIds: [expect.any(String)], tokens: 1 });
    expect(scans).toHaveLength(1);
    expect(deletes.length).toBeGreaterThanOrEqual(3);
    // Each batch finds its rows by id in the primary key, not by reading the table.
    for (const batch of deletes) expect(await planOf(t.app.database.db, batch, ["enable_seqscan"])).toMatch(/"Index Name":\s*"sessions_pkey"[^}]*"Index Cond":\s*"\(id = ANY/);
  });

  test("two instances purging at once delete each session once", async () => {
    const auth = await register(t);
    await insertEndedSessions(auth.user.id, 250, new Date(clock.now - PURGE_GRACE_MS - MINUTE));
    const counts = await Promise.all([purge(), purge()]);
    expect(counts[0]! + counts[1]!).toBe(250);
    expect((await storedFor(auth.user.id)).sessionIds).toHaveLength(1);
  });

  // Two transactions at once: only PostgreSQL (the embedded database runs one at a time).
  testWithPostgres("a scan's worth of sessions held by another transaction ends the run, which does not scan again and again", async () => {
    const auth = await register(t);
    await insertEndedSessions(auth.user.id, 10_000, new Date(clock.now - PURGE_GRACE_MS - MINUTE));
    const { db } = t.app.database;
    await db.transaction(async (tx) => {
      await tx.execute(sql`select id from sessions where user_id = ${auth.user.id}::uuid and ended_at is not null for update`);
      queries.length = 0;
      expect(await purge()).toBe(0);
    });
    expect(queries.filter((query) => /^select "id" from "sessions"/.test(query.text))).toHaveLength(1);
    expect(await purge()).toBe(10_000);
  });

  test("stops between batches once its signal aborts", async () => {
    const auth = await register(t);
    await insertEndedSessions(auth.user.id, 250, new Date(clock.now - PURGE_GRACE_MS - MINUTE));
    const stopping = new AbortController();
    stopping.abort();
    const first = await t.app.services.sessions.purgeEnded({ signal: stopping.signal });
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(250);
    expect(first + (await purge())).toBe(250);
  });
});

describe("scheduleSessionPurge", () => {
  const PURGED = "ended and expired sessions purged";

  test("runs shortly after the start and logs how many sessions it deleted", async () => {
    const auth = await register(t);
    await insertEndedSessions(auth.user.id, 3, new Date(clock.now - PURGE_GRACE_MS - MINUTE));
    const logs = captureLogs();
    const scheduled = scheduleSessionPurge({ sessions: t.app.services.sessions, logger: logs.logger, firstDelayMs: 0, intervalMs: HOUR });
    try {
      const line = await waitFor(async () => {
        const found = logs.records().find((record) => record.msg === PURGED);
        if (!found) throw new Error("no purge logged yet");
        return found;
      }, 5_000);
      expect(line).toMatchObject({ level: 30, deleted: 3 });
    } finally {
      await scheduled.stop();
    }
    expect(await storedFor(auth.user.id)).toMatchObject({ sessionIds: [expect.any(String)], tokens: 1 });
  });

  test("then purges the address changes past their revert link and the devices not signed in from lately, even when the sessions' purge failed", async () => {
    const logs = captureLogs();
    const failing = {
      purgeEnded: () => Promise.reject(new Error("sessions locked")),
    };
    const emailChanges = { purgeExpiredEmailChanges: () => Promise.resolve(2) };
    const knownDevices = { purgeForgottenDevices: () => Promise.resolve(4) };
    const scheduled = scheduleSessionPurge({ sessions: failing, emailChanges, knownDevices, logger: logs.logger, firstDelayMs: 0, intervalMs: HOUR });
    try {
      const line = await waitFor(async () => {
        const found = logs.records().find((record) => record.msg === "devices not signed in from lately purged");
        if (!found) throw new Error("no purge logged yet");
        return found;
      }, 5_000);
      expect(line).toMatchObject({ level: 30, deleted: 4 });
      expect(logs.records().find((record) => record.msg === "address changes past their revert link purged")).toMatchObject({ level: 30, deleted: 2 });
      expect(logs.records()[0]).toMatchObject({ level: 50, err: { message: "sessions locked" } });
    } finally {
      await scheduled.stop();
    }
  });

  test("a failed run is logged with its cause and the next one still runs; a run that deletes nothing logs nothing", async () => {
    const logs = captureLogs();
    let calls = 0;
    const failing = {
      async purgeEnded() {
        calls++;
        if (calls === 1) throw new Error("database unavailable");
        return 0;
      },
    };
    const scheduled = scheduleSessionPurge({ sessions: failing, logger: logs.logger, firstDelayMs: 0, intervalMs: 10 });
    await waitFor(async () => {
      if (calls < 3) throw new Error(`${calls} runs so far`);
    }, 5_000);
    await scheduled.stop();
    const records = logs.records();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ level: 50, err: { message: "database unavailable" } });
  });

  test("never overlaps itself, and stop waits for the run under way and cancels the next", async () => {
    let calls = 0;
    let active = 0;
    let mostActive = 0;
    let signalOfLastRun: AbortSignal | undefined;
    const slow = {
      async purgeEnded(options: { signal?: AbortSignal } = {}) {
        calls++;
        active++;
        mostActive = Math.max(mostActive, active);
        signalOfLastRun = options.signal;
        await new Promise((resolve) => setTimeout(resolve, 30));
        active--;
        return 0;
      },
    };
    const scheduled = scheduleSessionPurge({ sessions: slow, logger: captureLogs().logger, firstDelayMs: 0, intervalMs: 1 });
    await waitFor(async () => {
      if (calls < 3 || active === 0) throw new Error("waiting for a run under way");
    }, 5_000);
    await scheduled.stop();
    expect(active).toBe(0);
    expect(signalOfLastRun?.aborted).toBe(true);
    const callsAtStop = calls;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toBe(callsAtStop);
    expect(mostActive).toBe(1);
  });

  test("a run waits for the database's migrations (skipped, not failed), and stop() gives up on a batch that hangs at its timeout", async () => {
    let ready = false;
    let calls = 0;
    const hanging = {
      purgeEnded() {
        calls++;
        return new Promise<number>(() => {});
      },
    };
    const logs = captureLogs();
    const scheduled = scheduleSessionPurge({ sessions: hanging, logger: logs.logger, isReady: () => ready, firstDelayMs: 0, intervalMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect({ calls, errors: logs.records().filter((record) => record.level >= 50) }).toEqual({ calls: 0, errors: [] });
    ready = true;
    await waitFor(async () => expect(calls).toBe(1), 5_000);
    // The database hangs under the batch: the shutdown does not wait for it beyond its time.
    const stopped = scheduled.stop(200);
    expect(await Promise.race([stopped.then(() => "stopped"), new Promise((resolve) => setTimeout(resolve, 5_000, "still waiting"))])).toBe("stopped");
  });
});
