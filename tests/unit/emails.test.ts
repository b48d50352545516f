import { AppError } from "../../src/errors";
import { checkEmail } from "../../src/auth/emails";

/** The code and field checkEmail refuses an address with, or undefined when it accepts it. */
function refusal(email: string): { code: string; field: unknown } | undefined {
  try {
    checkEmail(email);
    return undefined;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { code: error.code, field: error.extensions.field };
  }
}

describe("checkEmail: which strings are an email address", () => {
  test.each([
    "ada@example.com",
    "someone.else@example.com",
    "user-0a1b2c3d4e@example.com",
    "first.last+tag@sub.example.co",
    "o'brien@example.ie",
    "!#$%&'*+/=?^_`{|}~-@example.com",
    "a@xn--mller-kva.example",
    "a@my-host.example",
  ])("accepts %s", (email) => {
    expect(checkEmail(email)).toBe(email);
  });

  // RFC 6531 local parts and IDN domains, as accepted before the syntax was narrowed.
  test.each(["jörg.müller@beispiel.de", "δοκιμή@παράδειγμα.δοκιμή", "用户@例子.广告", "अजय@डाटा.भारत", "ñandú@müller.example"])(
    "accepts the non-ASCII address %s",
    (email) => {
      expect(checkEmail(email)).toBe(email);
    },
  );

  test("trims and lower-cases what it accepts", () => {
    expect(checkEmail("  Someone@Example.COM ")).toBe("someone@example.com");
    expect(checkEmail("JÖRG@Beispiel.DE")).toBe("jörg@beispiel.de");
  });

  // Each of these reads, to a mail library, as a list, a group or a name around someone else's address.
  test.each([
    "a<victim@corp.example>",
    "victim@corp.example,x",
    "grp:victim@corp.example;",
    "victim@corp.example;x@y.example",
    "Victim <victim@corp.example>",
    "a@x.example>",
    "<a@x.example>",
    '"a b"@x.example',
    '"a"@x.example',
    "a@b@c.example",
    "a(comment)@x.example",
    "a@x.example(comment)",
    "a b@x.example",
    "a@[192.0.2.1]",
    "a\\b@x.example",
  ])("refuses %s", (email) => {
    expect(refusal(email)).toEqual({ code: "BAD_USER_INPUT", field: "email" });
  });

  test.each([
    ".a@x.example",
    "a.@x.example",
    "a..b@x.example",
    "a@x..example",
    "a@.x.example",
    "a@x.example.",
    "a@-x.example",
    "a@x-.example",
    "a@x_y.example",
    "a@localhost",
    "@x.example",
    "a@",
    "",
    "ada\u0000@example.com",
    "a\u202e@x.example",
    "ａ＠ｘ.example",
  ])("refuses the malformed %j", (email) => {
    expect(refusal(email)).toEqual({ code: "BAD_USER_INPUT", field: "email" });
  });

  test("refuses an address longer than 254 characters", () => {
    expect(refusal(`${"a".repeat(64)}@${"b".repeat(182)}.example`)).toEqual({ code: "BAD_USER_INPUT", field: "email" });
    expect(checkEmail(`${"a".repeat(64)}@${"b".repeat(181)}.example`)).toHaveLength(254);
  });

  test("reports the field it was given", () => {
    expect(() => checkEmail("a<b@c.example>", "newEmail")).toThrow(expect.objectContaining({ extensions: { field: "newEmail" } }));
  });
});
