import { describe, expect, it } from "vitest";
import {
  environmentTagProblem,
  ownerProblem,
  parseEphemeralStack,
  parseExpiry,
} from "../../../tiers/infra/identity.js";

describe("parseEphemeralStack", () => {
  it.each([
    ["stress-20260501-0930", { tier: "stress", createdAt: "2026-05-01T09:30:00.000Z" }],
    ["ultimate-20261231-2359", { tier: "ultimate", createdAt: "2026-12-31T23:59:00.000Z" }],
  ])("reads %s", (name, expected) => {
    const r = parseEphemeralStack(name)!;
    expect({ tier: r.tier, createdAt: r.createdAt.toISOString() }).toStrictEqual(expected);
  });

  it.each([
    "stress",
    "base-2026-05-01",
    "mega-20260501-0930",
    "stress-20260230-0930",
    "stress-20260501-2460",
    "stress-20260501-0930x",
  ])("is undefined for %s", (name) => {
    expect(parseEphemeralStack(name)).toBeUndefined();
  });
});

describe("parseExpiry", () => {
  it.each([
    ["2026-05-01T18:00:00Z", "2026-05-01T18:00:00.000Z"],
    ["2026-05-01T18:00Z", "2026-05-01T18:00:00.000Z"],
  ])("reads %s", (value, iso) => {
    expect(parseExpiry(value)?.toISOString()).toBe(iso);
  });

  it.each([
    "2026-05-01",
    "2026-05-01T18:00:00+02:00",
    "2026-02-30T10:00:00Z",
    "2026-05-01T25:00:00Z",
    "soon",
  ])("refuses %s", (value) => {
    expect(parseExpiry(value)).toBeUndefined();
  });
});

describe("owner and environment tag values", () => {
  it.each(["infra-team", "jane@example.com", "Team Perf / EU", "a"])("accepts owner %j", (v) => {
    expect(ownerProblem(v)).toBeUndefined();
  });
  it.each(["", "-nobody", "x".repeat(129), "tab\there", "ünïcode"])("refuses owner %j", (v) => {
    expect(ownerProblem(v)).toBe("is not an owner");
  });
  it.each([
    ["shared", undefined],
    ["env-1", undefined],
    ["primary", undefined],
    ["Env 1", "is neither shared nor an environment id"],
  ])("environment %j", (v, problem) => {
    expect(environmentTagProblem(v)).toBe(problem);
  });
});
