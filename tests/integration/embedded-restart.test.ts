import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { register, startTestApp, STRONG_PASSWORD } from "../helpers/test-app";

// Always the embedded database, even in the run against real servers: this is about DATA_DIR.
test("a restarted embedded service keeps its accounts, sessions and signing secret", async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), "auth-embedded-"));
  const database = { url: undefined, dataDir, drop: async () => {} };
  try {
    const first = await startTestApp({}, { database });
    const auth = await register(first);
    await first.close();

    const second = await startTestApp({}, { database });
    try {
      // The old access token still verifies: the generated secret was kept under DATA_DIR.
      expect((await second.gql(`{ me { id } }`, {}, { token: auth.accessToken })).data?.me.id).toBe(auth.user.id);
      const login = await second.gql(`mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { user { id } } }`, {
        e: auth.user.email,
        p: STRONG_PASSWORD,
      });
      expect(login.data?.login.user.id).toBe(auth.user.id);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
