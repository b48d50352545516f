import { and, eq, gt, gte, isNull, lt, ne, sql, type SQL } from "drizzle-orm";
import type { PgUpdateSetSource } from "drizzle-orm/pg-core";
import type { Db } from "../db/client";
import { emailChanges, sessions, users, userViewColumns, type EmailChangeRow, type Role, type UserRow, type UserView } from "../db/schema";
import { sharedLookup } from "../db/shared-lookup";
import { endSessionsOf, PURGE_GRACE_MS, type EndReason } from "./sessions";

export type Users = ReturnType<typeof createUsers>;

/** Ids one users_by_ids query takes at most; a larger batch is split. */
const MAX_SHOWN_PER_QUERY = 1000;

/**
 * Writes `values` to the accounts `where` selects and returns them as written. The same
 * transaction then applies `effects` to each: with `endsSessions`, its live sessions end (but
 * `except`), so that they end with the change or not at all; a change that retires tokens (a new
 * password, a deactivation) must not leave a session live should its second step fail: its
 * refresh token would hand out access tokens of the new version, or revive with a reactivated
 * account. With `closesEmailChanges`, its open address changes are closed: their take-back
 * links stop working, and the addresses they kept are free.
 *
 * Two statements, not one: a sign-in holds the account's row FOR SHARE while it starts its
 * session (Sessions.start), so the write waits for it, and only a statement begun after the
 * write, with a snapshot of its own, sees that session to end it. (A CTE beside the write shares
 * the snapshot taken before the wait, and missed it.) A revert locks the row before it closes
 * its change (revertEmailChange), so of a revert and a change that closes it, one waits for the other.
 */
export async function updateUser(
  db: Db,
  values: PgUpdateSetSource<typeof users>,
  where: SQL | undefined,
  effects?: { at: Date; endsSessions?: { reason: EndReason; except?: string }; closesEmailChanges?: boolean },
): Promise<UserRow | undefined> {
  if (!effects?.endsSessions && !effects?.closesEmailChanges) return (await db.update(users).set(values).where(where).returning())[0];
  const { at, endsSessions, closesEmailChanges } = effects;
  return db.transaction(async (tx) => {
    const [row] = await tx.update(users).set(values).where(where).returning();
    if (!row) return row;
    if (endsSessions) await endSessionsOf(tx, eq(sessions.userId, row.id), endsSessions.reason, at, endsSessions.except);
    if (closesEmailChanges) await tx.update(emailChanges).set({ closedAt: at }).where(and(eq(emailChanges.userId, row.id), isNull(emailChanges.closedAt)));
    return row;
  });
}

/** For a write to the users row: the session is the account's, and has not ended. */
const isLiveSessionOfUser = (sessionId: string) =>
  sql`exists (select 1 from ${sessions} where ${sessions.id} = ${sessionId}::uuid and ${sessions.userId} = ${users.id} and ${sessions.endedAt} is null)`;

/**
 * Serialises, per address, the transactions that claim one (Users.create, changeEmail) or give
 * one up (changeEmail): each reads the reservations (isReserved) only after the others committed.
 * Without it a registration could read no reservation, then wait on the unique index for the
 * change freeing the address, and take it the moment that committed.
 */
async function lockAddresses(tx: Db, emails: string[]): Promise<void> {
  // Addresses arrive normalised (emails.ts). In one order everywhere: two changes swapping
  // addresses wait for each other, never deadlock.
  for (const key of [...new Set(emails)].sort()) {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
  }
}

/** A change whose revert link still works at `at`: not spent, not closed by another's, not expired. */
const isOpenChange = (at: Date) => and(isNull(emailChanges.closedAt), gt(emailChanges.revertExpiresAt, at));

/**
 * An address an account left while the link that gives it back still works (revertEmailChange):
 * no other account may take it meanwhile, or whoever moved the account could register it and
 * leave the owner's link nothing to restore. `except` is the account that left it.
 */
async function isReserved(tx: Db, email: string, at: Date, except?: string): Promise<boolean> {
  // Both sides normalised in JavaScript (emails.ts): compared as they are, not by PostgreSQL's locale-bound lower().
  const [row] = await tx
    .select({ userId: emailChanges.userId })
    .from(emailChanges)
    .where(and(eq(emailChanges.previousEmail, email), isOpenChange(at), except ? ne(emailChanges.userId, except) : undefined))
    .limit(1);
  return row !== undefined;
}

/** PostgreSQL's unique_violation, however the driver or Drizzle wrapped it. */
function isUniqueViolation(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if ((cause as Error & { code?: unknown }).code === "23505") return true;
  }
  return false;
}

export interface NewUser {
  email: string;
  passwordHash: string;
  name?: string | null;
  role?: Role;
}

/** Storage of accounts. Emails reaching it are already normalised. */
export function createUsers(deps: { db: Db; now?: () => Date }) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());

  const byId = db
    .select()
    .from(users)
    .where(eq(users.id, sql.placeholder("id")))
    .prepare("user_by_id");
  const byIds = db
    .select(userViewColumns)
    .from(users)
    .where(sql`${users.id} = any(${sql.placeholder("ids")}::uuid[])`)
    .prepare("users_by_ids");
  // Accounts as shown, for every request's loader (graphql/loaders.ts), shared across requests
  // as the session checks are (Sessions): a gateway's concurrent _entities calls cost one round
  // trip instead of one each.
  const shown = sharedLookup<UserView>((ids) => byIds.execute({ ids }), (row) => row.id, MAX_SHOWN_PER_QUERY);
  const byEmail = db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, sql.placeholder("email")))
    .prepare("user_by_email");

  return {
    async findById(id: string): Promise<UserRow | null> {
      const [row] = await byId.execute({ id });
      return row ?? null;
    },

    async findByEmail(email: string): Promise<UserRow | null> {
      const [row] = await byEmail.execute({ email });
      return row ?? null;
    },

    /** The accounts as shown, in the order asked (DataLoader's contract); a failed query rejects. */
    findByIds(ids: readonly string[]): Promise<(UserView | null)[]> {
      return Promise.all(ids.map((id) => shown.load(id)));
    },

    /**
     * "taken" when the address already has an account; "reserved" when an account left it and
     * can still take it back (isReserved).
     */
    async create(user: NewUser): Promise<UserRow | "taken" | "reserved"> {
      const at = now();
      return db.transaction(async (tx) => {
        await lockAddresses(tx, [user.email]);
        if (await isReserved(tx, user.email, at)) return "reserved";
        const [row] = await tx
          .insert(users)
          .values({ ...user, createdAt: at, updatedAt: at })
          .onConflictDoNothing()
          .returning();
        return row ?? "taken";
      });
    },

    /**
     * Replaces the hash with one of the current parameters; the password itself is unchanged.
     * Only while the account still holds `previous`: a password set in the meantime stays.
     */
    async upgradePasswordHash(id: string, previous: string, passwordHash: string): Promise<void> {
      await db
        .update(users)
        .set({ passwordHash })
        .where(and(eq(users.id, id), eq(users.passwordHash, previous)));
    },

    async markEmailVerified(id: string): Promise<UserRow | null> {
      const [row] = await db.update(users).set({ emailVerified: true, updatedAt: now() }).where(eq(users.id, id)).returning();
      return row ?? null;
    },

    /**
     * Sets a new password, bumps the token version, which retires every access token issued so
     * far, and ends every session but `sessionId`'s; only while the account is still active at
     * the token version the caller read (and, for a change, the caller's session is live). A
     * change or reset decided tens of milliseconds earlier (argon2 runs) must not land over a
     * reset, a change, a deactivation or a revocation made in between. A reset also marks the
     * address verified: its emailed link proved it. Null when the account changed.
     */
    async setPassword(id: string, passwordHash: string, as: { tokenVersion: number; reason: EndReason; sessionId?: string; verifiesEmail?: boolean }): Promise<UserRow | null> {
      const at = now();
      const liveSession = as.sessionId ? isLiveSessionOfUser(as.sessionId) : undefined;
      const values = { passwordHash, tokenVersion: sql`${users.tokenVersion} + 1`, passwordChangedAt: at, updatedAt: at, ...(as.verifiesEmail ? { emailVerified: true } : {}) };
      const where = and(eq(users.id, id), eq(users.tokenVersion, as.tokenVersion), eq(users.active, true), liveSession);
      // A login with the new password reads it only once this has committed: its session is not among those ended.
      const row = await updateUser(db, values, where, { at, endsSessions: { reason: as.reason, except: as.sessionId } });
      return row ?? null;
    },

    /**
     * Makes `email` the account's address, verified (the link emailed to it proved it), and takes
     * a new token version: the reset links sent to the old address die with it (as do the access
     * tokens issued so far; their sessions go on, and a refresh gets new ones). Only while the
     * account is active at the version the link was issued at: a password change, a reset, a
     * deactivation or a role change since stands. Null when one did; "taken" when another
     * account holds the address by now, or left it and can still take it back. The same
     * transaction records the change with the hash of the token that reverts it
     * (revertEmailChange), valid for `revert.ttlSeconds`; without `revert` (no notice would carry
     * its link) the change is not recorded.
     */
    async changeEmail(
      user: Pick<UserRow, "id" | "email" | "tokenVersion">,
      email: string,
      revert: { tokenHash: string; ttlSeconds: number } | null,
    ): Promise<UserRow | "taken" | null> {
      const at = now();
      const values = { email, emailVerified: true, tokenVersion: sql`${users.tokenVersion} + 1`, updatedAt: at };
      try {
        return await db.transaction(async (tx) => {
          await lockAddresses(tx, [user.email, email]);
          if (await isReserved(tx, email, at, user.id)) return "taken";
          const [row] = await tx
            .update(users)
            .set(values)
            .where(and(eq(users.id, user.id), eq(users.tokenVersion, user.tokenVersion), eq(users.active, true)))
            .returning();
          if (!row || !revert) return row ?? null;
          // At the version read, the address was the one read with it: a change takes a new version.
          await tx.insert(emailChanges).values({
            userId: row.id,
            previousEmail: user.email,
            newEmail: row.email,
            tokenVersion: row.tokenVersion,
            revertTokenHash: revert.tokenHash,
            changedAt: at,
            revertExpiresAt: new Date(at.getTime() + revert.ttlSeconds * 1000),
          });
          return row;
        });
      } catch (error) {
        if (isUniqueViolation(error)) return "taken";
        throw error;
      }
    },

    /** Whether an account other than `except` left `email` and can still take it back (isReserved). */
    isAddressReserved(email: string, except?: string): Promise<boolean> {
      return isReserved(db, email, now(), except);
    },

    /** The address change whose revert token hashes to `tokenHash`, while its link works, with its account. */
    async findRevertableEmailChange(tokenHash: string): Promise<{ change: EmailChangeRow; user: UserRow } | null> {
      const [found] = await db
        .select({ change: emailChanges, user: users })
        .from(emailChanges)
        .innerJoin(users, eq(users.id, emailChanges.userId))
        .where(and(eq(emailChanges.revertTokenHash, tokenHash), isOpenChange(now())))
        .limit(1);
      return found ?? null;
    },

    /** Until when a change of the account's address can still be undone: its open links' last expiry, or null. */
    async emailChangeRevertableUntil(userId: string): Promise<Date | null> {
      const [row] = await db
        .select({ until: sql<Date | null>`max(${emailChanges.revertExpiresAt})`.mapWith(emailChanges.revertExpiresAt) })
        .from(emailChanges)
        .where(and(eq(emailChanges.userId, userId), isOpenChange(now())));
      return row?.until ?? null;
    },

    /**
     * Undoes `change`: the account gets back the address it left, verified, and `passwordHash`
     * (whoever made the change knew the old password), takes a new token version and ends every
     * session. The change and every later one of the account are closed with it, so their links
     * stop working, while earlier ones keep theirs: whoever moved the account on cannot undo the
     * owner's revert with a link of their own, nor void the owner's link by reverting a later
     * change. One transaction, under the account's row lock, which every revert takes first:
     * of racing reverts one wins, and the others find their change closed. Null when the change
     * is closed or the account inactive by now; "taken" when another account holds the address
     * (nothing is written: the link still works once the address is free). `left` is the
     * address the account had until now.
     */
    async revertEmailChange(change: Pick<EmailChangeRow, "id" | "userId" | "previousEmail" | "tokenVersion">, passwordHash: string): Promise<{ user: UserRow; left: string } | "taken" | null> {
      const at = now();
      try {
        return await db.transaction(async (tx) => {
          const [locked] = await tx
            .select({ email: users.email })
            .from(users)
            .where(and(eq(users.id, change.userId), eq(users.active, true)))
            .for("update");
          if (!locked) return null;
          // Read after the lock: a revert that closed this change has committed.
          const stillOpen = sql`exists (select 1 from ${emailChanges} where ${emailChanges.id} = ${change.id} and ${emailChanges.closedAt} is null)`;
          const closed = await tx
            .update(emailChanges)
            .set({ closedAt: at })
            .where(and(eq(emailChanges.userId, change.userId), gte(emailChanges.tokenVersion, change.tokenVersion), isNull(emailChanges.closedAt), stillOpen))
            .returning({ id: emailChanges.id });
          if (closed.length === 0) return null;
          const values = { email: change.previousEmail, emailVerified: true, passwordHash, tokenVersion: sql`${users.tokenVersion} + 1`, passwordChangedAt: at, updatedAt: at };
          const [row] = await tx.update(users).set(values).where(eq(users.id, change.userId)).returning();
          if (!row) return null;
          await endSessionsOf(tx, eq(sessions.userId, row.id), "email_change_reverted", at);
          return { user: row, left: locked.email };
        });
      } catch (error) {
        if (isUniqueViolation(error)) return "taken";
        throw error;
      }
    },

    /**
     * Deletes the address changes whose revert link expired more than PURGE_GRACE_MS before
     * `at` (instances' clocks differ: one running ahead must not delete a link another still
     * takes): the address an account left is kept no longer than its link needs it. Returns
     * how many were deleted. Address changes are few: one statement deletes them all.
     */
    async purgeExpiredEmailChanges(at: Date = now()): Promise<number> {
      const cutoff = new Date(at.getTime() - PURGE_GRACE_MS);
      return (await db.delete(emailChanges).where(lt(emailChanges.revertExpiresAt, cutoff)).returning({ id: emailChanges.id })).length;
    },

    /**
     * Sets the name shown (null clears it) while the caller's session is live: a session ended,
     * or an account deactivated or deleted, in the meantime stands. Null when it did.
     */
    async setName(id: string, name: string | null, as: { sessionId: string }): Promise<UserRow | null> {
      const [row] = await db
        .update(users)
        .set({ name, updatedAt: now() })
        .where(and(eq(users.id, id), isLiveSessionOfUser(as.sessionId)))
        .returning();
      return row ?? null;
    },

    /**
     * Deletes an account as its owner last saw it: the token version read with the caller (a new
     * password, role or deactivation takes a new one), and the caller's session still live. Its
     * sessions and refresh tokens go with it (ON DELETE CASCADE: PostgreSQL leaves no session of
     * it behind, not even one a sign-in was starting meanwhile). False when the account changed
     * in between.
     */
    async delete(id: string, as: { tokenVersion: number; sessionId: string }): Promise<boolean> {
      const where = and(eq(users.id, id), eq(users.tokenVersion, as.tokenVersion), isLiveSessionOfUser(as.sessionId));
      return (await db.delete(users).where(where).returning({ id: users.id })).length > 0;
    },
  };
}
