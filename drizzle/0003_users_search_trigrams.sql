-- The admin search (users(search:)) matches a substring of the address or the name, in any
-- case. Without an index that is a read of every row; trigram indexes find the few that can
-- match. pg_trgm ships with PostgreSQL (its contrib modules, in every official image and the
-- major hosted services) and is a trusted extension: a role with CREATE on the database, as
-- the owner has, may install it (or an administrator, beforehand). The embedded database
-- loads PGlite's build of it.
-- Building the indexes holds off writes to users (sign-ups, password changes, verifications)
-- while it runs: about 3 s per 100,000 accounts on PostgreSQL 15 (5.6 s for 200,000).
CREATE EXTENSION IF NOT EXISTS pg_trgm;--> statement-breakpoint
CREATE INDEX "users_email_trgm_idx" ON "users" USING gin ("email" gin_trgm_ops);--> statement-breakpoint
CREATE INDEX "users_name_trgm_idx" ON "users" USING gin ("name" gin_trgm_ops);
