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

  test("clients of unknown address share one count instead of escaping the limit", () => {
    expect(addressBucket(null)).toBe(addressBucket(null));
    expect(addressBucket(null)).not.toBe(addressBucket("198.51.100.7"));
  });
});
