import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { RUN_PREFIX, runId } from "./databases";

export interface TestRedis {
  /** TEST_REDIS_URL, or undefined for the in-process store. */
  url: string | undefined;
  /** A prefix of this app's own: no other test or run sees its keys. */
  keyPrefix: string;
  /** Deletes every key under the prefix. */
  cleanup(): Promise<void>;
}

export function createTestRedis(): TestRedis {
  const url = process.env.TEST_REDIS_URL;
  const keyPrefix = `${RUN_PREFIX}${runId()}_${randomBytes(4).toString("hex")}:`;
  return {
    url,
    keyPrefix,
    async cleanup() {
      if (!url) return;
      const redis = new Redis(url);
      try {
        for await (const keys of redis.scanStream({ match: `${keyPrefix}*`, count: 200 })) {
          if ((keys as string[]).length) await redis.del(...(keys as string[]));
        }
      } finally {
        redis.disconnect();
      }
    },
  };
}
