import { eq } from "drizzle-orm";
import { users } from "../../src/db/schema";
import { AppError } from "../../src/errors";
import { errorCode, register, startTestApp, type AuthPayload, type TestApp } from "../helpers/test-app";

const UPDATE_PROFILE = `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id email name } }`;
const ME = `{ me { id name } }`;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const update = (auth: AuthPayload, input: Record<string, unknown>) => t.gql(UPDATE_PROFILE, { input }, { token: auth.accessToken });
const nameOf = async (auth: AuthPayload) => (await t.gql(ME, {}, { token: auth.accessToken })).data?.me.name as string | null;

test("sets the caller's name, trimmed, and answers with the account as it now is", async () => {
  const auth = await register(t, { name: "Ada" });
  const res = await update(auth, { name: "  Ada Lovelace " });
  expect(res.data).toEqual({ updateProfile: { id: auth.user.id, email: auth.user.email, name: "Ada Lovelace" } });
  expect(await nameOf(auth)).toBe("Ada Lovelace");
});

test("null or a blank name clears it; a name left out stays", async () => {
  const auth = await register(t, { name: "Grace" });
  expect((await update(auth, {})).data?.updateProfile.name).toBe("Grace");
  expect(await nameOf(auth)).toBe("Grace");
  expect((await update(auth, { name: "   " })).data?.updateProfile.name).toBeNull();
  await update(auth, { name: "Grace" });
  expect((await update(auth, { name: null })).data?.updateProfile.name).toBeNull();
  expect(await nameOf(auth)).toBeNull();
});

test.each([
  ["too long", "x".repeat(101), "Name must be at most 100 characters"],
  ["a control character", "Ada\u0007", "Name must not contain control characters"],
  ["a text-direction override", "Ada\u202Eevil", "Name must not contain invisible or text-direction characters"],
])("refuses a name with %s on its field, and keeps the one it had", async (_case, name, message) => {
  const auth = await register(t, { name: "Ada" });
  const res = await update(auth, { name });
  expect(res.errors?.[0]).toMatchObject({ message, extensions: { code: "BAD_USER_INPUT", field: "name" } });
  expect(await nameOf(auth)).toBe("Ada");
});

test("needs a caller, and a live session", async () => {
  expect(errorCode(await t.gql(UPDATE_PROFILE, { input: { name: "Nobody" } }))).toBe("UNAUTHENTICATED");
  const auth = await register(t, { name: "Ada" });
  await t.gql(`mutation($r: String!) { logout(refreshToken: $r) }`, { r: auth.refreshToken });
  expect(errorCode(await update(auth, { name: "Someone else" }))).toBe("UNAUTHENTICATED");
});

test("a caller whose session ended after it was read writes nothing", async () => {
  const auth = await register(t, { name: "Ada" });
  // The caller as the request read it, before a logout elsewhere landed.
  const viewer = await t.app.services.accounts.authenticate(auth.accessToken);
  await t.gql(`mutation($r: String!) { logout(refreshToken: $r) }`, { r: auth.refreshToken });
  const writing = t.app.services.accounts.updateProfile(viewer, { name: "Too late" });
  await expect(writing).rejects.toBeInstanceOf(AppError);
  await expect(writing).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
  expect(await t.app.database.db.select({ name: users.name }).from(users).where(eq(users.id, auth.user.id))).toEqual([{ name: "Ada" }]);
});
