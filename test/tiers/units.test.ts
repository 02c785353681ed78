import { describe, expect, it } from "vitest";
import { parseInUnit } from "../../tiers/contracts/units.js";
import {
  formatDuration,
  parseBitsPerSecond,
  parseBytes,
  parseDurationMs,
  parsePercent,
} from "../../tiers/units.js";

describe("quantities as the seeds write them", () => {
  it.each([
    ["900M", 900e6],
    ["1G", 1e9],
    ["10 Gbps", 10e9],
    ["1.5Gbit/s", 1.5e9],
    ["925600000", 925.6e6],
    [925.6e6, 925.6e6],
  ] as const)("bits/s %s", (text, bits) => expect(parseBitsPerSecond(text)).toBe(bits));

  it.each([
    ["10ms", 10],
    ["1s", 1000],
    ["5 minutes", 300_000],
    ["5m", 300_000],
    ["30d", 2_592_000_000],
    ["250us", 0.25],
  ] as const)("duration %s", (text, ms) => expect(parseDurationMs(text)).toBeCloseTo(ms, 9));

  it.each([
    ["16Gi", 16 * 2 ** 30],
    ["512Mi", 512 * 2 ** 20],
    ["16GB", 16e9],
    ["100 GB", 100e9],
    ["64", 64],
  ] as const)("bytes %s", (text, bytes) => expect(parseBytes(text)).toBe(bytes));

  it.each(["fast", "10 parsecs", "-5ms", "", "1e", "G"])("refuses %j", (text) => {
    expect(parseDurationMs(text)).toBeUndefined();
    expect(parseBitsPerSecond(text)).toBeUndefined();
  });

  it("reads a rule value in its result's unit", () => {
    expect(parseInUnit("900M", "bits/sec")).toBe(900e6);
    expect(parseInUnit("2s", "ms")).toBe(2000);
    expect(parseInUnit("1500ms", "s")).toBe(1.5);
    expect(parseInUnit("1ms", "us")).toBe(1000);
    expect(parseInUnit("85%", "percent")).toBe(85);
    expect(parseInUnit("64Mi", "bytes")).toBe(64 * 2 ** 20);
    expect(parseInUnit("10k", "req/sec")).toBe(10_000);
    expect(parseInUnit("ten", "count")).toBeUndefined();
    expect(parsePercent("85%")).toBe(85);
  });

  it.each([
    [500, "500ms"],
    [1500, "1.5s"],
    [90_000, "1m30s"],
    [6_000_000, "1h40m"],
  ] as const)("formats %d ms as %s", (ms, text) => expect(formatDuration(ms)).toBe(text));
});
