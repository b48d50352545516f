import DataLoader from "dataloader";

/**
 * Lookups by id that arrive in the same turn of the event loop, from any request, answered by
 * one query: a DataLoader batched at setImmediate, across requests. It has no cache, so each
 * caller reads the rows as they are when it asks; a failed query rejects every caller of its
 * batch. `query` gets the ids of a batch (at most `maxBatchSize`, duplicates included) and
 * returns the rows found, in any order; an id without a row gets null.
 */
export function sharedLookup<Row>(query: (ids: readonly string[]) => Promise<Row[]>, idOf: (row: Row) => string, maxBatchSize: number): DataLoader<string, Row | null> {
  return new DataLoader<string, Row | null>(
    async (ids) => {
      const byId = new Map((await query(ids)).map((row) => [idOf(row), row]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    { cache: false, batchScheduleFn: (run) => setImmediate(run), maxBatchSize },
  );
}
