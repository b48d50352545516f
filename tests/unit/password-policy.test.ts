import { checkPassword } from "../../src/auth/password-policy";
import { AppError } from "../../src/errors";

const policy = { minLength: 8, maxLength: 128 };

function refusal(password: string, email?: string): AppError | undefined {
  try {
    checkPassword(policy, password, "password", email);
    return undefined;
  } catch (error) {
    return error as AppError;
  }
}

describe("password policy (NIST SP 800-63B)", () => {
  test("accepts a long passphrase of any characters, without composition rules", () => {
    expect(refusal("correct horse battery staple")).toBeUndefined();
    expect(refusal("пароль-на-кухне")).toBeUndefined();
    expect(refusal("all lowercase words here")).toBeUndefined();
  });

  test("counts characters, not bytes or UTF-16 units", () => {
    expect(refusal("😀😀😀😀😀😀😀")).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(refusal("😀😀😀😀😀😀😀😀")).toBeUndefined();
  });

  test("refuses passwords shorter than the minimum or longer than 128 characters", () => {
    expect(refusal("short1!")).toMatchObject({ code: "BAD_USER_INPUT", extensions: { field: "password" } });
    expect(refusal("kettle-".repeat(18).slice(0, 128))).toBeUndefined();
    expect(refusal("a".repeat(129))?.message).toMatch(/at most 128/);
  });

  test("honours a raised minimum", () => {
    expect(() => checkPassword({ minLength: 15, maxLength: 128 }, "fourteen chars", "password")).toThrow(/at least 15/);
  });

  test("refuses common passwords whatever their case", () => {
    expect(refusal("password")?.message).toMatch(/too common/);
    expect(refusal("PassWord1")?.message).toMatch(/too common/);
    expect(refusal("iloveyou")?.message).toMatch(/too common/);
  });

  test("refuses the account's own address or its local part", () => {
    expect(refusal("someone@example.com", "someone@example.com")?.message).toMatch(/email/);
    expect(refusal("Someone.Else", "someone.else@example.com")?.message).toMatch(/email/);
  });

  test("normalises Unicode (NFKC) so equivalent spellings hash alike", () => {
    expect(checkPassword(policy, "ﬁne-kettle-orbit", "password")).toBe("fine-kettle-orbit");
  });
});
