import argon2 from "argon2";
import { createPasswordHasher } from "../../src/auth/passwords";

const config = { argon2: { memoryCost: 4096, timeCost: 1, parallelism: 1 }, hashConcurrency: 1, maxQueue: 10 };

// argon2 0.45 wrote its parameters as m,p,t; 0.44, which this release pins (0.45's binaries
// crash Node 20), writes m,t,p. Accounts made under either must keep signing in.
test("a hash whose parameters another argon2 release wrote in another order verifies, and needs no rehash", async () => {
  const passwords = await createPasswordHasher(config);
  const hash = await passwords.hash("plum-kettle-orbit-42");
  const [, head, rest] = /^(\$argon2id\$v=19\$)([^$]+)(.*)$/.exec(hash) ?? [];
  expect(rest).toBeDefined();
  const params = Object.fromEntries(rest!.split(",").map((pair) => pair.split("=")));
  const reordered = `${head}m=${params.m},p=${params.p},t=${params.t}${hash.slice(head!.length + rest!.length)}`;
  expect(reordered).not.toBe(hash);

  expect(await passwords.verify(reordered, "plum-kettle-orbit-42")).toEqual({ ok: true, needsRehash: false });
  expect(await passwords.verify(reordered, "wrong-password-guess")).toEqual({ ok: false, needsRehash: false });
});

test("an imported hash of another argon2 kind or length verifies, and is replaced at the next login", async () => {
  const passwords = await createPasswordHasher(config);
  const { memoryCost, timeCost, parallelism } = config.argon2;
  for (const imported of [
    await argon2.hash("plum-kettle-orbit-42", { type: argon2.argon2i, memoryCost, timeCost, parallelism }),
    await argon2.hash("plum-kettle-orbit-42", { type: argon2.argon2d, memoryCost, timeCost, parallelism }),
    await argon2.hash("plum-kettle-orbit-42", { type: argon2.argon2id, memoryCost, timeCost, parallelism, hashLength: 16 }),
  ]) {
    expect(await passwords.verify(imported, "plum-kettle-orbit-42")).toEqual({ ok: true, needsRehash: true });
  }
  expect(await passwords.verify(await passwords.hash("plum-kettle-orbit-42"), "plum-kettle-orbit-42")).toEqual({ ok: true, needsRehash: false });
});
