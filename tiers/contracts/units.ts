import type { ResultUnit } from "../schema/contract.js";
import { parseBitsPerSecond, parseBytes, parseDurationMs, parsePercent } from "../units.js";

/**
 * Reads a rule or threshold value in the unit of the result it applies to: "900M" for bits/sec,
 * "10ms" or "2s" for ms, "64MiB" for bytes, "85%" for percent, "10k" for counts and rates.
 */
export function parseInUnit(value: number | string, unit: ResultUnit | undefined): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  const text = value.trim();
  switch (unit) {
    case "bits/sec":
      return parseBitsPerSecond(text);
    case "bytes":
    case "bytes/sec":
      return parseBytes(text.replace(/\/s(ec)?$/, ""));
    case "ms":
      return parseDurationMs(text, "ms");
    case "s": {
      const ms = parseDurationMs(text, "s");
      return ms === undefined ? undefined : ms / 1000;
    }
    case "us": {
      if (/^[0-9.eE+-]+$/.test(text)) return Number(text);
      const ms = parseDurationMs(text, "ms");
      return ms === undefined ? undefined : ms * 1000;
    }
    case "percent":
      return parsePercent(text);
    default: {
      const m = /^([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*([kKMGT]?)$/.exec(text);
      if (!m) return undefined;
      const f = { "": 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] ?? ""] ?? 1;
      return Number(m[1]) * f;
    }
  }
}

/** What a unit's values look like, for error messages. */
export function unitExample(unit: ResultUnit | undefined): string {
  switch (unit) {
    case "bits/sec":
      return 'a number or a rate such as "900M"';
    case "bytes":
    case "bytes/sec":
      return 'a number or a size such as "64Mi"';
    case "ms":
    case "s":
    case "us":
      return 'a number or a duration such as "10ms"';
    case "percent":
      return 'a number or a percentage such as "85%"';
    default:
      return 'a number such as 10 or "10k"';
  }
}
