import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/** Whether an `openssl` binary is on PATH (the tests that need certificates make them with it). */
export const hasOpenssl = spawnSync("openssl", ["version"], { stdio: "ignore" }).status === 0;

export interface TestCertificates {
  /** PEM of the certificate authority that signed the server's certificate. */
  caPem: string;
  caFile: string;
  /** The server's certificate (for 127.0.0.1) and its key. */
  certFile: string;
  keyFile: string;
  remove(): void;
}

/**
 * A throwaway certificate authority and a server certificate it signed for 127.0.0.1 (P-256,
 * valid for a day), in a temporary directory of their own.
 */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(path.join(tmpdir(), "certs-"));
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl("req", "-x509", ...newKey, "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=auth-service test CA");
  openssl("req", ...newKey, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  writeFileSync(file("server.ext"), "subjectAltName=IP:127.0.0.1\n");
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "1", "-extfile", "server.ext");
  return {
    caPem: readFileSync(file("ca.pem"), "utf8"),
    caFile: file("ca.pem"),
    certFile: file("server.pem"),
    keyFile: file("server.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
