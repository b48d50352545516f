import { addressBucket } from "../../src/auth/rate-limits";

describe("addressBucket: what a per-address rate limit counts", () => {
  test("an IPv4 address counts as itself, however it is written", () => {
    expect(addressBucket("198.51.100.7")).toBe("198.51.100.7");
    expect(addressBucket("::ffff:198.51.100.7")).toBe("198.51.100.7");
    expect(addressBucket("198.51.100.8")).not.toBe(addressBucket("198.51.100.7"));
  });

  test("an IPv6 address counts as its /64", () => {
    expect(addressBucket("2001:db8:1:2::a")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:DB8:1:2:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8:1:3::a")).not.toBe(addressBucket("2001:db8:1:2::a"));
  });

  test("an address with the source port a proxy appended counts as the address", () => {
    expect(addressBucket("203.0.113.5:51234")).toBe("203.0.113.5");
    expect(addressBucket("203.0.113.5:40001")).toBe(addressBucket("203.0.113.5:40002"));
    expect(addressBucket("[2001:db8:1:2::a]:443")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("[2001:db8:1:2::b]")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("[::ffff:198.51.100.7]:8080")).toBe("198.51.100.7");
  });

  test("strings that are no IP address share one count, however they are spelled", () => {
    const shared = addressBucket(null);
    for (const junk of ["unknown", "_hidden", "203.0.113.5:", "203.0.113.5:port", "[2001:db8::1", "[2001:db8::1]:", "203.0.113.5 ", ""]) {
      expect(addressBucket(junk)).toBe(shared);
    }
  });

  // That they share it is tested with the rule itself, in tests/security/rate-limits.test.ts.
  test("clients of unknown address count apart from every known one", () => {
    expect(addressBucket(null)).not.toBe(addressBucket("198.51.100.7"));
    expect(addressBucket(null)).not.toBe(addressBucket("::"));
  });
});
