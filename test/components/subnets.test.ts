import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { contains, formatCidr, overlaps, parseCidr } from "../../components/network/cidr.js";
import { AZ_COUNT_RANGE, layoutSubnets, VPC_PREFIX_RANGE } from "../../components/network/subnets.js";

describe("layoutSubnets", () => {
  it("lays out a /16 over three zones", () => {
    expect(layoutSubnets("10.0.0.0/16", 3)).toStrictEqual({
      private: ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"],
      public: ["10.0.224.0/24", "10.0.225.0/24", "10.0.226.0/24"],
    });
  });

  it.each([
    ["10.0.0.1/16", 3, '"10.0.0.1/16" is not an aligned IPv4 CIDR such as 10.0.0.0/16'],
    ["10.0.0.0/8", 3, "a /8 VPC is outside the supported /16 to /20"],
    ["10.0.0.0/24", 3, "a /24 VPC is outside the supported /16 to /20"],
    ["10.0.0.0/16", 0, "0 zones is outside 1 to 6"],
    ["10.0.0.0/16", 7, "7 zones is outside 1 to 6"],
  ])("refuses %s over %i zones", (cidr, zones, message) => {
    expect(() => layoutSubnets(cidr, zones)).toThrow(message);
  });

  it("property: subnets lie inside the VPC, never overlap, and have the documented sizes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: VPC_PREFIX_RANGE.min, max: VPC_PREFIX_RANGE.max }),
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: AZ_COUNT_RANGE.min, max: AZ_COUNT_RANGE.max }),
        (prefix, address, zones) => {
          const base = address - (address % 2 ** (32 - prefix));
          const vpc = formatCidr({ base, prefix });
          const layout = layoutSubnets(vpc, zones);
          const all = [...layout.private, ...layout.public].map((c) => parseCidr(c)!);
          const outer = parseCidr(vpc)!;
          return (
            layout.private.length === zones &&
            layout.public.length === zones &&
            all.every((c) => contains(outer, c)) &&
            all.every((a, i) => all.every((b, j) => i === j || !overlaps(a, b))) &&
            layout.private.every((c) => c.endsWith(`/${prefix + 3}`)) &&
            layout.public.every((c) => c.endsWith(`/${prefix + 8}`))
          );
        },
      ),
    );
  });
});

describe("parseCidr / formatCidr", () => {
  it.each(["10.0.0.0/16", "192.168.4.0/22", "0.0.0.0/0", "10.1.2.3/32"])("round-trips %s", (c) => {
    expect(formatCidr(parseCidr(c)!)).toBe(c);
  });
  it.each(["10.0.0.0", "10.0.0.256/24", "10.0.0.0/33", "10.0.1.0/16", "a.b.c.d/8"])("refuses %s", (c) => {
    expect(parseCidr(c)).toBeUndefined();
  });
});
