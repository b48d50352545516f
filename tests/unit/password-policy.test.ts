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
    expect(refusal("🐙🌵🎻🧲🚲🍋🦉")).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(refusal("🐙🌵🎻🧲🚲🍋🦉🔑")).toBeUndefined();
  });

  test("refuses half a surrogate pair: argon2 would hash any of them as U+FFFD", () => {
    for (const password of ["\uD800\uD800\uD800\uD800zz-kettle", "zz-kettle-lamp\uDC00"]) {
      expect(refusal(password)).toMatchObject({ code: "BAD_USER_INPUT", extensions: { field: "password" }, message: "Password must be valid Unicode text" });
    }
    expect(refusal("\u{1F600}zz-kettle-lamp")).toBeUndefined();
  });

  test("refuses passwords shorter than the minimum or longer than 128 characters", () => {
    expect(refusal("short1!")).toMatchObject({ code: "BAD_USER_INPUT", extensions: { field: "password" } });
    const longest = "kettle-".repeat(19).slice(0, 128);
    expect(longest).toHaveLength(128);
    expect(refusal(longest)).toBeUndefined();
    expect(refusal(`${longest}x`)?.message).toMatch(/at most 128/);
  });

  test("honours a raised minimum", () => {
    expect(() => checkPassword({ minLength: 15, maxLength: 128 }, "fourteen chars", "password")).toThrow(/at least 15/);
  });

  test("refuses common passwords whatever their case", () => {
    expect(refusal("password")?.message).toMatch(/too common/);
    expect(refusal("PassWord1")?.message).toMatch(/too common/);
    expect(refusal("iloveyou")?.message).toMatch(/too common/);
  });

  // What password spraying tries first; none of them is on the list as typed.
  test.each(["Password1!", "Passw0rd!", "P@ssword1", "Welcome1!", "Summer2024!", "Qwerty123!", "Letmein2023"])(
    "refuses %s: a common password behind capitals, look-alikes and a few digits or symbols",
    (password) => {
      expect(refusal(password)).toMatchObject({
        code: "BAD_USER_INPUT",
        message: "This password is too common; choose another",
        extensions: { field: "password" },
      });
    },
  );

  test("refuses a common password behind digits or symbols at either end, or with look-alikes inside", () => {
    for (const password of ["!Dragon2024", "@dmin123", "Adm!n2024", "S3cur1ty!", "12345678!", "Monkey123456"]) {
      expect(refusal(password)?.message).toMatch(/too common/);
    }
  });

  test("accepts passphrases and random strings that begin or end in digits or symbols", () => {
    expect(refusal("correct horse battery staple 42")).toBeUndefined();
    expect(refusal("42 correct horse battery staple!")).toBeUndefined();
    expect(refusal("kettle-orbit-lantern-2024")).toBeUndefined();
    expect(refusal("kX9#mQ2$vL7@pR4!")).toBeUndefined();
    expect(refusal("7Tz8!qW3#nB6^yH1")).toBeUndefined();
    expect(refusal("p4Vn-e9Rx_2Lq7Zs")).toBeUndefined();
  });

  test("leaves a common word alone when what surrounds it is longer than a year and a symbol or two", () => {
    expect(refusal("monkey1839201")).toBeUndefined();
  });

  test("refuses the account's own address or its local part", () => {
    expect(refusal("someone@example.com", "someone@example.com")?.message).toMatch(/email/);
    expect(refusal("Someone.Else", "someone.else@example.com")?.message).toMatch(/email/);
  });

  test("refuses a password built on the address's local part", () => {
    expect(refusal("Zorblax2024!", "zorblax@example.com")).toMatchObject({ code: "BAD_USER_INPUT", extensions: { field: "password" } });
    expect(refusal("Z0rbl4x!!", "zorblax@example.com")?.message).toMatch(/email/);
    expect(refusal("Zorblax2024!", "zorblax77@example.com")?.message).toMatch(/email/);
    expect(refusal("Zorblax Quim 1985", "zorblax.quim@example.com")).toBeUndefined();
  });

  // Near the top of every breach list, and left out of the common-password list because zxcvbn
  // scores them with matchers of its own.
  test.each(["aaaaaaaa", "00000000", "99999999", "123123123", "12121212", "abcabcabc", "abcdefgh", "87654321", "0987654321", "1234abcd", "aaaa1111", "qwertyuiopasdfg", "lkjhgfdsa", "!@#$%^&*", "1qaz2wsx3edc", "Abcdefgh2024!", "zxcvbnm!!"])(
    "refuses %s: a repeat, a sequence or a keyboard run",
    (password) => {
      expect(refusal(password)).toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/too common|repeat, a sequence or a keyboard run/), extensions: { field: "password" } });
    },
  );

  test("accepts passwords that only contain a short run or repeat", () => {
    for (const password of ["abc-kettle-orbit", "aaa plum kettle", "1234 plum kettle lamp", "kettle-".repeat(4), "xkcd-abcd-plum-9876"]) {
      expect(refusal(password)).toBeUndefined();
    }
  });

  test("counts the minimum in characters as typed: NFKC must not turn one character into many", () => {
    const raised = { minLength: 15, maxLength: 128 };
    // U+FDFA is one character that NFKC spells in 18; U+337F is one that becomes four.
    expect(() => checkPassword(raised, "\uFDFA", "password")).toThrow(/at least 15/);
    expect(() => checkPassword(raised, "\u337F".repeat(4), "password")).toThrow(/at least 15/);
    // Nor past the maximum: eight typed characters are not 144.
    expect(refusal("\uFDFA".repeat(8) + "kettle")).toBeUndefined();
    // A letter typed with its combining accent is one character, as NFKC writes it.
    expect(() => checkPassword(policy, "e\u0301".repeat(4) + "xyz", "password")).toThrow(/at least 8/);
  });

  test("refuses the account's name, with or without its spaces and behind a few digits or symbols", () => {
    for (const password of ["ada lovelace 1815", "Ada Lovelace", "adalovelace1815!", "AdaLovelace"]) {
      expect(() => checkPassword(policy, password, "password", "countess@example.com", "Ada Lovelace 1815")).toThrow(/must not be your name/);
    }
    expect(() => checkPassword(policy, "ada lovelace 1815", "password", "countess@example.com", "Ada Lovelace")).toThrow(/must not be your name/);
    expect(checkPassword(policy, "ada lovelace and the engine", "password", "countess@example.com", "Ada Lovelace")).toBe("ada lovelace and the engine");
    expect(checkPassword(policy, "plum-kettle-orbit-42", "password", "countess@example.com", "Al")).toBe("plum-kettle-orbit-42");
  });

  test("normalises Unicode (NFKC) so equivalent spellings hash alike", () => {
    expect(checkPassword(policy, "ﬁne-kettle-orbit", "password")).toBe("fine-kettle-orbit");
  });
});
