import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PHASE_NAMES } from "../../../tiers/schema/names.js";
import { isPlainSample } from "../../../workloads/bundle/sample-check.js";
import { Sample } from "../../../workloads/shared/cycle.js";

/** Values near each field's rules: valid ones, and ones each rule must reject. */
const tsMs = fc.oneof(
  fc.nat(),
  fc.integer({ min: -5, max: -1 }),
  fc.double(),
  fc.constant(2 ** 53),
  fc.string(),
);
const phase = fc.oneof(
  fc.constantFrom(...PHASE_NAMES, null),
  fc.string(),
  fc.constant(undefined),
  fc.integer(),
);
const series = fc.oneof(fc.string(), fc.constant(""), fc.integer(), fc.constant(null));
const value = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.POSITIVE_INFINITY, Number.NaN, -0),
  fc.integer(),
  fc.string(),
  fc.boolean(),
);
const sampleLike = fc.record(
  { ts_ms: tsMs, phase, series, value, extra: fc.anything() },
  { requiredKeys: [] },
);

describe("isPlainSample agrees with the shared Sample schema", () => {
  it("on objects near every rule", () => {
    fc.assert(
      fc.property(sampleLike, (candidate) => {
        expect(isPlainSample(candidate)).toBe(Sample.safeParse(candidate).success);
      }),
      { numRuns: 5000 },
    );
  });

  it("on anything at all, including what JSON.parse returns", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          fc.json().map((j) => JSON.parse(j) as unknown),
        ),
        (candidate) => {
          expect(isPlainSample(candidate)).toBe(Sample.safeParse(candidate).success);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it.each([
    [{ ts_ms: 1, phase: "light", series: "load.rps", value: 2.5 }, true],
    [{ ts_ms: 1, phase: null, series: "sut.cpu_pct", value: 0 }, true],
    [{ ts_ms: 1, phase: "light", series: "load.rps", value: 2.5, note: 1 }, false],
    [{ ts_ms: 1.5, phase: "light", series: "load.rps", value: 2.5 }, false],
    [{ ts_ms: 1, phase: "warmup", series: "load.rps", value: 2.5 }, false],
    [JSON.parse('{"ts_ms":1,"phase":"light","series":"x","value":1e400}') as unknown, false],
  ])("%j → %s", (candidate, expected) => {
    expect(isPlainSample(candidate)).toBe(expected);
    expect(Sample.safeParse(candidate).success).toBe(expected);
  });
});
