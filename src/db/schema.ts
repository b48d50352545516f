import { sql } from "drizzle-orm";
import { boolean, index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const role = pgEnum("role", ["USER", "ADMIN"]);

export const users = pgTable(
  "users",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    // Stored normalised (trimmed, lower-cased); the unique index holds even for rows written by hand.
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    name: text("name"),
    role: role("role").notNull().default("USER"),
    emailVerified: boolean("email_verified").notNull().default(false),
    active: boolean("active").notNull().default(true),
    // Bumped on every password change or reset, deactivation and role change; access tokens carry it,
    // so older ones stop working at once.
    tokenVersion: integer("token_version").notNull().default(0),
    passwordChangedAt: timestamptz("password_changed_at"),
    // Whole milliseconds, as JavaScript dates and the admin list's cursors hold them: a row
    // written with microseconds (by hand, an import, the default) would fall between two pages.
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date", precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamptz("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("users_email_lower_key").on(sql`lower(${t.email})`),
    index("users_created_at_id_idx").on(t.createdAt.desc(), t.id.desc()),
    // The admin search matches a substring of either, case-insensitively (auth/user-admin.ts):
    // trigram indexes answer it without reading every row (pg_trgm, migration 0003).
    index("users_email_trgm_idx").using("gin", t.email.op("gin_trgm_ops")),
    index("users_name_trgm_idx").using("gin", t.name.op("gin_trgm_ops")),
  ],
);

/** One row per sign-in: a refresh-token family. Ending a session ends every token in it. */
export const sessions = pgTable(
  "sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: timestamptz("created_at").notNull(),
    lastUsedAt: timestamptz("last_used_at").notNull(),
    expiresAt: timestamptz("expires_at").notNull(),
    endedAt: timestamptz("ended_at"),
    endReason: text("end_reason"),
    userAgent: text("user_agent"),
    ip: text("ip"),
  },
  (t) => [index("sessions_user_id_idx").on(t.userId)],
);

/**
 * Every refresh token a session has handed out, current and retired, by SHA-256 hash.
 * Retired rows are what lets a replayed token be recognised as theft rather than garbage.
 */
export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    createdAt: timestamptz("created_at").notNull(),
    rotatedAt: timestamptz("rotated_at"),
    successorHash: text("successor_hash"),
    // The successor token encrypted under a key derived from this token: only a holder of
    // this token can read it back, which is what lets two tabs converge on one successor.
    successorSealed: text("successor_sealed"),
  },
  (t) => [index("refresh_tokens_session_id_idx").on(t.sessionId)],
);

/**
 * Every change of an account's address, and the link that undoes it: the notice to the address
 * it left carries a token whose SHA-256 hash is kept here. Kept in PostgreSQL, not with the
 * emailed tokens in Redis, because spending it must be settled in one transaction with the
 * account's row and the changes made after it, and must outlive a Redis restart.
 */
export const emailChanges = pgTable(
  "email_changes",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    // The address the account left (restored by a revert) and the one it moved to.
    previousEmail: text("previous_email").notNull(),
    newEmail: text("new_email").notNull(),
    // The account's token version once changed: it orders one account's changes.
    tokenVersion: integer("token_version").notNull(),
    revertTokenHash: text("revert_token_hash").notNull(),
    changedAt: timestamptz("changed_at").notNull(),
    revertExpiresAt: timestamptz("revert_expires_at").notNull(),
    // Set when the change is reverted, or when a change made before it is: its link no longer works.
    closedAt: timestamptz("closed_at"),
  },
  (t) => [uniqueIndex("email_changes_revert_token_hash_key").on(t.revertTokenHash), index("email_changes_user_id_idx").on(t.userId)],
);

/**
 * The devices an account was signed in to with its password, and when last: a login from none
 * of them (nor from any of its sessions still kept) is notified to the owner (Sessions.start).
 * Kept apart from the sessions, which are deleted a day after they end: a device signed out
 * every evening is still known the next week.
 */
export const knownDevices = pgTable(
  "known_devices",
  {
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    // md5 of the user agent without its version numbers (sessions.ts): one size whatever was sent.
    device: text("device").notNull(),
    lastSignedInAt: timestamptz("last_signed_in_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.device] })],
);

export type UserRow = typeof users.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type EmailChangeRow = typeof emailChanges.$inferSelect;
export type Role = (typeof role.enumValues)[number];

/**
 * The columns of an account that the GraphQL User shows. A read made only to show accounts (a
 * gateway's entities, the admin list) takes these and no more: never the password hash, and
 * 7 columns a row to map rather than 11. The admin list's edges type their node as the User
 * class, so a field added to User without its column here fails the type check.
 */
export const userViewColumns = {
  id: users.id,
  email: users.email,
  name: users.name,
  role: users.role,
  emailVerified: users.emailVerified,
  active: users.active,
  createdAt: users.createdAt,
};
export type UserView = Pick<UserRow, keyof typeof userViewColumns>;
