import { and, count, eq, ilike, ne, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client";
import { sessions as sessionsTable, users as usersTable, userViewColumns, type Role, type UserRow, type UserView } from "../db/schema";
import { badInput, forbidden, invalidAccessToken } from "../errors";
import type { Config } from "../config";
import type { AccountNotices } from "./account-notices";
import { checkEmail } from "./emails";
import { checkId } from "./ids";
import type { PasswordHasher } from "./passwords";
import { checkPassword } from "./password-policy";
import type { SecurityEvents } from "./security-events";
import { endSessionsOf, type ClientInfo, type EndReason } from "./sessions";
import { updateUser, type Users } from "./users";
import { CONTROL_CHARACTER, UNPAIRED_SURROGATE } from "./text";

export interface UserPage {
  users: UserView[];
  hasNextPage: boolean;
}

export type UserAdmin = ReturnType<typeof createUserAdmin>;

const MAX_PAGE = 100;
const MAX_SEARCH = 254;

/** Opaque to clients: the position of a user in the newest-first order. */
export function encodeCursor(user: Pick<UserRow, "createdAt" | "id">): string {
  return Buffer.from(JSON.stringify([user.createdAt.toISOString(), user.id])).toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const bytes = Buffer.from(cursor, "base64url");
    // Node's decoder skips what is not base64url and stops at padding: only the cursor's own text decodes.
    if (bytes.toString("base64url") !== cursor) throw new Error("not base64url");
    const [createdAt, id] = JSON.parse(bytes.toString("utf8")) as [string, string];
    const date = new Date(createdAt);
    // Exactly as encodeCursor writes it, from year 1 to 9999: PostgreSQL reads neither year 0
    // nor "+010000-01-01", which an offset or hour 24 on 9999-12-31 would have made of it.
    if (typeof createdAt !== "string" || Number.isNaN(date.getTime()) || date.toISOString() !== createdAt || date.getUTCFullYear() < 1 || date.getUTCFullYear() > 9999) throw new Error("bad date");
    return { createdAt: date, id: checkId(id, "after") };
  } catch {
    throw badInput("after", "Not a valid cursor");
  }
}

function searchFilter(search: string | null | undefined): SQL | undefined {
  const term = search?.trim();
  if (!term) return undefined;
  if (term.length > MAX_SEARCH) throw badInput("search", `Search must be at most ${MAX_SEARCH} characters`);
  // No address or name holds a control character or half a surrogate pair.
  if (CONTROL_CHARACTER.test(term)) throw badInput("search", "Search must not contain control characters");
  if (UNPAIRED_SURROGATE.test(term)) throw badInput("search", "Search must be valid Unicode text");
  // The term is matched literally: LIKE's wildcards in it are escaped.
  const pattern = `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return or(ilike(usersTable.email, pattern), ilike(usersTable.name, pattern));
}

/** What admins do to other accounts: list, search, deactivate, change role. */
export function createUserAdmin(deps: {
  db: Db;
  users: Users;
  passwords: PasswordHasher;
  policy: Config["passwords"];
  events?: Pick<SecurityEvents, "accountDeactivated" | "accountReactivated" | "roleChanged" | "accountDeleted">;
  notices?: Pick<AccountNotices, "accountDeleted" | "changedByAdmin">;
  now?: () => Date;
}) {
  const { db, users, passwords, policy } = deps;
  const now = deps.now ?? (() => new Date());

  /**
   * A new role, and a new token version when it is not the role the account has: access tokens
   * carry the role, which services verifying them offline would trust until they expire.
   */
  const roleChange = (role: Role) => ({
    role,
    tokenVersion: sql`case when ${usersTable.role} = ${role} then ${usersTable.tokenVersion} else ${usersTable.tokenVersion} + 1 end`,
  });

  type Change = { active?: boolean; role?: Role; tokenVersion?: SQL };

  /**
   * No values: the row is written as it is, which locks it like a change would and leaves
   * updated_at alone. With `ends`, the account's sessions end in the same transaction.
   *
   * Making an account an ADMIN closes its open address changes in the same transaction. Their
   * take-back links go to addresses the account left, which are not what the admin (or
   * create-admin) vouched for: whoever reads one (a recycled mailbox, a former employer's)
   * could otherwise take the new admin account with a password of their own.
   */
  async function update(id: string, values: Change, onlyIf?: SQL, ends?: EndReason): Promise<UserRow | undefined> {
    const at = now();
    const set = Object.keys(values).length ? { ...values, updatedAt: at } : { updatedAt: sql`${usersTable.updatedAt}` };
    return updateUser(db, set, and(eq(usersTable.id, id), onlyIf), { at, endsSessions: ends && { reason: ends }, closesEmailChanges: values.role === "ADMIN" });
  }

  async function existingUser(id: string): Promise<UserRow> {
    const user = await users.findById(id);
    if (!user) throw badInput("id", "No such user");
    return user;
  }

  /**
   * An admin's change of another account, written only while the admin is still an active
   * admin. Two admins demoting or deactivating each other at once would otherwise both pass
   * the check their requests made when they came in, and leave no admin. The two rows are
   * locked in the order of their ids (so two such changes cannot deadlock) and the caller is
   * read as it is once the lock is held: the second change finds its admin changed and is
   * refused, as that admin's access token now is.
   *
   * The aggregate reads both locked rows before it answers: a filter on the admin's row alone
   * (an EXISTS) is pushed below the lock by the planner, which then locks only the admin's row,
   * and two such changes deadlock on each other's target.
   */
  const stillAdmin = (adminId: string, target: string) => sql`(
    select coalesce(bool_or(locked.id = ${adminId}::uuid and locked.role = 'ADMIN' and locked.active), false)
    from (select id, role, active from ${usersTable} where id in (${adminId}::uuid, ${target}::uuid) order by id for update) as locked
  )`;

  async function updateAsAdmin(adminId: string, target: string, values: Change, onlyIf?: SQL, ends?: EndReason): Promise<UserRow | undefined> {
    return update(target, values, and(stillAdmin(adminId, target), onlyIf), ends);
  }

  /**
   * An admin's change that may already hold (a role the account has, say): `changed` says
   * whether this call made it, for the audit log. The change is written only where it differs;
   * where nothing was written, the account is read as it is under the same locks (written
   * unchanged, its updated_at kept), and should another change have landed in between, this
   * one is tried again.
   */
  async function changeAsAdmin(
    adminId: string,
    target: string,
    change: { values: Change; differs: SQL; holds: (user: UserRow) => boolean; ends?: EndReason },
  ): Promise<{ user: UserRow; changed: boolean }> {
    for (;;) {
      const changed = await updateAsAdmin(adminId, target, change.values, change.differs, change.ends);
      if (changed) return { user: changed, changed: true };
      const user = await updateAsAdmin(adminId, target, {});
      if (!user) {
        await existingUser(target);
        throw invalidAccessToken();
      }
      if (change.holds(user)) return { user, changed: false };
    }
  }

  return {
    /** Newest first; `after` is the cursor of the last user of the previous page. */
    async list(options: { first: number; after?: string | null; search?: string | null }): Promise<UserPage> {
      if (!Number.isInteger(options.first) || options.first < 1 || options.first > MAX_PAGE) {
        throw badInput("first", `first must be between 1 and ${MAX_PAGE}`);
      }
      const filter = searchFilter(options.search);
      // An empty cursor is no cursor either: read as none, it would start again from the first page.
      const after = options.after != null ? decodeCursor(options.after) : undefined;
      // A row comparison: the index scan starts at the cursor, so a page costs the same however deep.
      const position = after ? sql`(${usersTable.createdAt}, ${usersTable.id}) < (${after.createdAt.toISOString()}::timestamptz, ${after.id}::uuid)` : undefined;
      const rows = await db
        .select(userViewColumns)
        .from(usersTable)
        .where(and(filter, position))
        // As users_created_at_id_idx orders them, so a page is read from it in order: a plain DESC
        // means nulls first (though neither column holds one), which the index does not match.
        .orderBy(sql`${usersTable.createdAt} desc nulls last`, sql`${usersTable.id} desc nulls last`)
        .limit(options.first + 1);
      return { users: rows.slice(0, options.first), hasNextPage: rows.length > options.first };
    },

    /** How many users the search matches (all without one): a scan of them, asked for only when a client wants it. */
    async count(search?: string | null): Promise<number> {
      const [total] = await db.select({ value: count() }).from(usersTable).where(searchFilter(search));
      return total?.value ?? 0;
    },

    /**
     * Deactivating ends every session of the account with it (see updateUser); its access
     * tokens stop working at once. Deactivating an account already inactive ends whatever
     * sessions it still has (left by hand in SQL, say). It takes a new token version too, so the
     * reset links and one-time tokens issued before it stay retired should the account be
     * reactivated.
     */
    async setActive(adminId: string, id: string, active: boolean, client: ClientInfo): Promise<UserRow> {
      const target = checkId(id);
      if (!active && target === adminId) throw forbidden("You cannot deactivate your own account");
      const change = active ? { active } : { active, tokenVersion: sql`${usersTable.tokenVersion} + 1` };
      const { user, changed } = await changeAsAdmin(adminId, target, {
        values: change,
        differs: ne(usersTable.active, active),
        holds: (user) => user.active === active,
        ends: active ? undefined : "deactivated",
      });
      if (!active && !changed) await endSessionsOf(db, eq(sessionsTable.userId, user.id), "deactivated", now());
      if (changed) {
        deps.events?.[active ? "accountReactivated" : "accountDeactivated"](user.id, adminId, client);
        deps.notices?.changedByAdmin(user, active ? "reactivated" : "deactivated", client);
      }
      return user;
    },

    /**
     * Deletes a USER account with every session and refresh token of it (ON DELETE CASCADE), as
     * its owner can (Accounts.deleteAccount). An ADMIN account is made a USER first, and an admin
     * cannot delete their own: an admin always remains. Like the changes above, it is written only
     * while the admin making it still is one, under the same locks: a promotion of the account or
     * a demotion of the admin that lands first stands.
     */
    async deleteUser(adminId: string, id: string, client: ClientInfo): Promise<boolean> {
      const target = checkId(id);
      if (target === adminId) throw forbidden("You cannot delete your own account");
      const where = and(eq(usersTable.id, target), eq(usersTable.role, "USER"), stillAdmin(adminId, target));
      const [deleted] = await db.delete(usersTable).where(where).returning({ id: usersTable.id, email: usersTable.email });
      if (!deleted) {
        const user = await existingUser(target);
        if (user.role !== "USER") throw forbidden("An admin account cannot be deleted; make it a USER first");
        throw invalidAccessToken();
      }
      deps.events?.accountDeleted(target, client, adminId);
      deps.notices?.accountDeleted(deleted, "admin", client);
      return true;
    },

    /**
     * For operators (npm run create-admin): creates an active ADMIN, or promotes an existing
     * active account whose address is verified. An unverified one may have been registered by
     * anyone, with a password of their choosing, before the operator came; a deactivated one was
     * stopped by an admin, perhaps because someone else holds it. One that is already an ADMIN
     * (the admin this made last time, say) is left as it is, so running it again succeeds
     * without undoing a deactivation an admin decided.
     */
    async provisionAdmin(email: string, password: string): Promise<{ user: UserRow; outcome: "created" | "promoted" | "already-admin" }> {
      const address = checkEmail(email);
      for (;;) {
        const existing = await users.findByEmail(address);
        if (existing && !existing.emailVerified && existing.role !== "ADMIN") {
          throw badInput("email", "This address has an account whose address is not verified. Verify it (its verification or password-reset email) first, then run this again");
        }
        if (existing?.role === "ADMIN") return { user: existing, outcome: "already-admin" };
        if (existing && !existing.active) {
          throw badInput("email", "This account was deactivated by an admin. An admin reactivates it (setUserActive) first, then run this again");
        }
        // Only while it is still active and verified: changed in between, it is read again above.
        const promoted = existing && (await update(existing.id, roleChange("ADMIN"), and(eq(usersTable.active, true), eq(usersTable.emailVerified, true))));
        if (promoted) return { user: promoted, outcome: "promoted" };
        const passwordHash = await passwords.hash(checkPassword(policy, password, "password", address));
        const user = await users.create({ email: address, passwordHash, role: "ADMIN" });
        if (user === "reserved") {
          throw badInput("email", "This address was an account's until recently, and that account can still take it back (revertEmailChange). Use another, or run this again once its link has expired");
        }
        if (user !== "taken") return { user, outcome: "created" };
        // Someone registered the address in between (or it vanished): look at it again.
      }
    },

    /**
     * A change retires the account's access tokens, as a password change does (see roleChange);
     * its sessions stay, so its next refresh gets a token with the new role.
     */
    async setRole(adminId: string, id: string, role: Role, client: ClientInfo): Promise<UserRow> {
      const target = checkId(id);
      // An admin demoting themselves could leave the service without any admin.
      if (role !== "ADMIN" && target === adminId) throw forbidden("You cannot change your own role");
      const { user, changed } = await changeAsAdmin(adminId, target, {
        values: roleChange(role),
        differs: ne(usersTable.role, role),
        holds: (user) => user.role === role,
      });
      if (changed) {
        deps.events?.roleChanged(user.id, role, adminId, client);
        deps.notices?.changedByAdmin(user, role === "ADMIN" ? "promoted" : "demoted", client);
      }
      return user;
    },
  };
}
