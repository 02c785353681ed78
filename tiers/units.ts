/**
 * Quantities written the way the seeds and users write them ("900M", "10ms", "16Gi", "5 minutes",
 * "85%"), parsed into one base unit per dimension. Every parser returns `undefined` for text it
 * does not understand, so callers can report the value with its position.
 */

const SI: Record<string, number> = { "": 1, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };
const IEC: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };

const NUMBER = String.raw`([0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)`;

/** "900M", "1G", "10 Gbps", "1.5Gbit/s", 925600000 → bits per second (SI prefixes, 1000-based). */
export function parseBitsPerSecond(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = new RegExp(`^${NUMBER}\\s*([kKMGTP]?)(?:bps|bit/s|bits/sec|bits/s|b/s)?$`).exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * (SI[m[2] ?? ""] ?? 1);
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  sec: 1000,
  secs: 1000,
  second: 1000,
  seconds: 1000,
  m: 60_000,
  min: 60_000,
  mins: 60_000,
  minute: 60_000,
  minutes: 60_000,
  h: 3_600_000,
  hour: 3_600_000,
  hours: 3_600_000,
  d: 86_400_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** "10ms", "1s", "5m", "5 minutes", "30d" → milliseconds. A bare number is taken as `bareUnit`. */
export function parseDurationMs(value: string | number, bareUnit: "ms" | "s" = "ms"): number | undefined {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) return undefined;
    return bareUnit === "s" ? value * 1000 : value;
  }
  const m = new RegExp(`^${NUMBER}\\s*([a-zµ]*)$`).exec(value.trim());
  if (!m) return undefined;
  const unit = m[2] ?? "";
  if (unit === "") return parseDurationMs(Number(m[1]), bareUnit);
  const factor = DURATION_UNITS[unit];
  return factor === undefined ? undefined : Number(m[1]) * factor;
}

/** "16Gi" (binary), "16GB" / "16 GB" / "16G" (decimal), "512Mi", 1024 → bytes. */
export function parseBytes(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = new RegExp(`^${NUMBER}\\s*([kKMGTP]i?)?(B|b|bytes)?$`).exec(value.trim());
  if (!m) return undefined;
  const prefix = m[2] ?? "";
  const factor = prefix.endsWith("i") ? IEC[prefix] : SI[prefix];
  return factor === undefined ? undefined : Number(m[1]) * factor;
}

/** "85%", 85 → 85 (percent). */
export function parsePercent(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  const m = new RegExp(`^${NUMBER}\\s*%?$`).exec(value.trim());
  return m ? Number(m[1]) : undefined;
}

/** Renders seconds compactly: 90 → "1m30s", 0.5 → "500ms". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const totalS = ms / 1000;
  if (totalS < 60) return `${+totalS.toFixed(totalS < 10 ? 2 : 1)}s`;
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = Math.round(totalS % 60);
  return `${h > 0 ? `${h}h` : ""}${m > 0 ? `${m}m` : ""}${s > 0 ? `${s}s` : ""}` || "0s";
}

/** Renders a rate with SI prefix: 50000 → "50k". */
export function formatSi(value: number, unit = ""): string {
  const abs = Math.abs(value);
  for (const [p, f] of [
    ["T", 1e12],
    ["G", 1e9],
    ["M", 1e6],
    ["k", 1e3],
  ] as const) {
    if (abs >= f) return `${+(value / f).toFixed(2)}${p}${unit}`;
  }
  return `${+value.toFixed(2)}${unit}`;
}
