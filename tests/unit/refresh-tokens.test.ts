import { generateToken as generateRefreshToken, hashToken } from "../../src/auth/opaque-tokens";
import { sealSuccessor, unsealSuccessor } from "../../src/auth/refresh-tokens";

describe("refresh tokens", () => {
  test("carry 256 bits, URL-safe", () => {
    const token = generateRefreshToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateRefreshToken()).not.toBe(token);
  });

  test("never repeat, across many refills of the pool they are drawn from", () => {
    const tokens = Array.from({ length: 1_000 }, generateRefreshToken);
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Zeroed bytes would show as a run of A's: no token carries a whole zero word.
    expect(tokens.filter((token) => token.includes("AAAAAAAAAA"))).toEqual([]);
  });

  test("are stored as a SHA-256 hash that does not contain the token", () => {
    const token = generateRefreshToken();
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).not.toContain(token);
    // Hashes already stored must keep matching after an upgrade: SHA-256 in hex, FIPS 180-2's "abc".
    expect(hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  test("a sealed successor opens only with the token it was sealed under", () => {
    const token = generateRefreshToken();
    const successor = generateRefreshToken();
    const sealed = sealSuccessor(successor, token);
    expect(sealed).not.toContain(successor);
    expect(unsealSuccessor(sealed, token)).toBe(successor);
    expect(() => unsealSuccessor(sealed, generateRefreshToken())).toThrow();
  });
});
