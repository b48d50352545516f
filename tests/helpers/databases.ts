import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import postgres from "postgres";
import { EMBEDDED_PGLITE_OPTIONS, embeddedClusterDir } from "../../src/db/client";
import { migratePglite } from "../../src/db/migrate";

/** Names every database and key prefix of one test run, so concurrent runs never meet. */
export const RUN_PREFIX = "auth_test_";

export function runId(): string {
  const id = process.env.AUTH_TEST_RUN_ID;
  if (!id) throw new Error("AUTH_TEST_RUN_ID is set by tests/helpers/global-setup.ts");
  return id;
}

function adminUrl(): string {
  return process.env.TEST_DATABASE_URL!;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export interface TestDatabase {
  /** A postgres:// URL, or undefined for the embedded database. */
  url: string | undefined;
  /** DATA_DIR for the embedded database. */
  dataDir: string;
  /** What an in-memory embedded database starts from: this run's migrated image. */
  image?: Blob;
  drop(): Promise<void>;
}

const IMAGE_FILE_ENV = "AUTH_TEST_PGLITE_IMAGE";
const CLUSTER_DIR_ENV = "AUTH_TEST_PGLITE_CLUSTER";

/**
 * An embedded cluster with every migration applied, made once per run (global-setup.ts), as a
 * directory and as an image: PGlite takes seconds to create a cluster, a fraction of one to
 * load the image or open a copy of the directory, and most test files start several apps.
 * The migrations themselves still run at each app's start, as a no-op, and the tests of a
 * fresh or restarted embedded database start without either.
 */
export async function writeEmbeddedImage(): Promise<void> {
  const clusterDir = path.join(tmpdir(), `auth-test-${runId()}.pglite`);
  const client = new PGlite(clusterDir, EMBEDDED_PGLITE_OPTIONS);
  try {
    await migratePglite(drizzle(client));
    const image = await client.dumpDataDir("none");
    const file = `${clusterDir}.tar`;
    writeFileSync(file, Buffer.from(await image.arrayBuffer()));
    process.env[IMAGE_FILE_ENV] = file;
    process.env[CLUSTER_DIR_ENV] = clusterDir;
  } finally {
    await client.close();
  }
}

export function removeEmbeddedImage(): void {
  for (const name of [IMAGE_FILE_ENV, CLUSTER_DIR_ENV]) {
    const file = process.env[name];
    if (file) rmSync(file, { recursive: true, force: true });
  }
}

/**
 * The image as PGlite reads it (`await blob.arrayBuffer()`), handing it a copy of bytes read
 * once. Node 20's own Blob.arrayBuffer() pulls the image (31 MB) through a stream in chunks
 * and joins them: with a 40 MB image, a PGlite start took ~0.95 s of CPU that way, ~0.6 s this.
 */
class ImageBlob extends Blob {
  readonly #image: Buffer;

  constructor(image: Buffer) {
    // The Blob holds the bytes too, so its size, stream() and text() tell the truth.
    super([image]);
    this.#image = image;
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    const image = this.#image;
    return Promise.resolve(image.buffer.slice(image.byteOffset, image.byteOffset + image.byteLength) as ArrayBuffer);
  }
}

// Read once per test file and shared by its apps: each gets a copy of the bytes.
let image: Blob | undefined;

function embeddedImage(): Blob | undefined {
  const file = process.env[IMAGE_FILE_ENV];
  if (file) image ??= new ImageBlob(readFileSync(file));
  return image;
}

/**
 * A fresh database of its own: an empty one on TEST_DATABASE_URL's server when set, else
 * embedded, in memory (from this run's migrated image) or, to be shared by several app
 * instances, server processes or a restart, in a temp dir (a copy of this run's migrated cluster).
 */
export async function createTestDatabase(options: { shared?: boolean } = {}): Promise<TestDatabase> {
  if (!process.env.TEST_DATABASE_URL) {
    if (!options.shared) return { url: undefined, dataDir: "memory://", image: embeddedImage(), drop: async () => {} };
    const dataDir = mkdtempSync(path.join(tmpdir(), "auth-test-"));
    const cluster = process.env[CLUSTER_DIR_ENV];
    if (cluster) await cp(cluster, embeddedClusterDir(dataDir), { recursive: true });
    return { url: undefined, dataDir, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `${RUN_PREFIX}${runId()}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(adminUrl(), name),
    dataDir: "memory://",
    drop: () => dropDatabases((existing) => existing === name),
  };
}

/** Drops this run's databases that match; used per file and once more at the end of the run. */
export async function dropDatabases(matches: (name: string) => boolean): Promise<void> {
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    const rows = await admin<{ datname: string }[]>`select datname from pg_database where datname like ${`${RUN_PREFIX}${runId()}%`}`;
    for (const { datname } of rows.filter((row) => matches(row.datname))) {
      await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    }
  } finally {
    await admin.end();
  }
}
