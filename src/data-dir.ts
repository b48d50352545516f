import { chmodSync, mkdirSync } from "node:fs";

/**
 * Makes DATA_DIR, or takes one that exists, readable by the service's user only: it holds the
 * embedded database (PGlite writes its files world-readable, password hashes and addresses in
 * its WAL among them) and the generated development secret. A directory this user may not
 * chmod (a volume's mount point owned by another) is left as its owner set it.
 */
export function ownDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    chmodSync(dataDir, 0o700);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") throw error;
  }
}
