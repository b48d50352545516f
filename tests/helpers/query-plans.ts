import { sql } from "drizzle-orm";
import type { Db } from "../../src/db/client";

/** A statement as the service sent it (the app's onQuery). */
export interface SentQuery {
  text: string;
  parameters: readonly unknown[];
}

/**
 * The plan (EXPLAIN, as JSON text) of a statement as it was sent, its $n bound to the values
 * sent, with the given planner methods priced out (`enable_sort`, `enable_seqscan`): a plan
 * that uses one anyway has no index to do without it, however small the tables of a test.
 */
export function planOf(db: Db, query: SentQuery, pricedOut: string[] = []): Promise<string> {
  return db.transaction(async (tx) => {
    for (const method of pricedOut) await tx.execute(sql.raw(`set local ${method} = off`));
    // sql.param: an array (uuid[]) stays one parameter instead of becoming a list.
    const pieces = query.text.split(/\$(\d+)/).map((piece, i) => (i % 2 ? sql`${sql.param(query.parameters[Number(piece) - 1])}` : sql.raw(piece)));
    return JSON.stringify(await tx.execute(sql`explain (format json) ${sql.join(pieces)}`));
  });
}
