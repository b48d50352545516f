import { InMemoryLRUCache } from "@apollo/utils.keyvaluecache";
import type { DocumentNode } from "graphql";

/** What this service's own clients need many times over: a few dozen operations of ~15 KB each. */
const MAX_BYTES = 8 * 1024 * 1024;

/**
 * The parsed documents Apollo keeps so that a repeated operation skips parsing and validation,
 * sized by the memory they hold. Apollo's default store counts a document by its JSON: that
 * leaves out the request text its locations keep alive (a `# …` comment of 95 KB counted as
 * 300 bytes, so distinct such requests filled a 128 MB heap in some 800 calls) and the token
 * objects behind it, about three times the JSON again (measured with graphql 16).
 */
export function createDocumentStore(): InMemoryLRUCache<DocumentNode> {
  return new InMemoryLRUCache<DocumentNode>({
    maxSize: MAX_BYTES,
    sizeCalculation: (document) => (document.loc?.source.body.length ?? 0) + 4 * JSON.stringify(document).length,
  });
}

/** Automatic persisted queries: query texts by hash, counted by their length, in a store as small. */
export function createQueryCache(): InMemoryLRUCache<string> {
  return new InMemoryLRUCache<string>({ maxSize: MAX_BYTES });
}
