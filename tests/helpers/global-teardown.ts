import { dropDatabases, removeEmbeddedImage } from "./databases";

/** Drops whatever databases of this run a crashed test file left behind, and the embedded image. */
export default async function globalTeardown(): Promise<void> {
  removeEmbeddedImage();
  if (process.env.TEST_DATABASE_URL) await dropDatabases(() => true);
}
