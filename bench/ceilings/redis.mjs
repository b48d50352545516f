// Ceiling of a token-store round trip: SET (with a TTL) then GETDEL through ioredis, with as
// many pairs in flight as the bench has connections. Prints one JSON line.
import { Redis } from "ioredis";

const [url, keyPrefix, seconds = "5", concurrency = "50"] = process.argv.slice(2);
const redis = new Redis(url, { keyPrefix, maxRetriesPerRequest: 0 });

async function pairsFor(ms) {
  const end = performance.now() + ms;
  let count = 0;
  const worker = async (id) => {
    let n = 0;
    while (performance.now() < end) {
      const key = `ceiling:${id}:${n++}`;
      await redis.set(key, "x".repeat(64), "EX", 60);
      if ((await redis.getdel(key)) === null) throw new Error("GETDEL found nothing");
      count++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Number(concurrency) }, (_, id) => worker(id)));
  return count / ((performance.now() - started) / 1000);
}

await pairsFor(1000);
const perSecond = await pairsFor(Number(seconds) * 1000);
await redis.quit();
console.log(JSON.stringify({ perSecond, concurrency: Number(concurrency) }));
