import { register, startTestApp, type TestApp } from "../helpers/test-app";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

test("registers and reads me", async () => {
  const auth = await register(t);
  const res = await t.gql(`{ me { id email } }`, {}, { token: auth.accessToken });
  expect(res.data?.me.id).toBe(auth.user.id);
});
