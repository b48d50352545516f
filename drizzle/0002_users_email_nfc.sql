-- Addresses are compared in Unicode NFC from now on (src/auth/emails.ts): "café" typed with
-- a combining accent is the same address as with "é". Addresses stored in another form are
-- rewritten to NFC, the oldest account first. One whose NFC form another account already
-- holds (a second account for one address, which this ends) keeps its form, and so can no
-- longer be found by its address: its owner signs in to the other one.
UPDATE "users" AS u
SET "email" = normalize(u."email", NFC)
FROM (
  SELECT DISTINCT ON (lower(normalize("email", NFC))) "id"
  FROM "users"
  WHERE "email" IS NOT NFC NORMALIZED
  ORDER BY lower(normalize("email", NFC)), "created_at", "id"
) AS "first"
WHERE u."id" = "first"."id"
  AND NOT EXISTS (SELECT 1 FROM "users" AS o WHERE lower(o."email") = lower(normalize(u."email", NFC)));
