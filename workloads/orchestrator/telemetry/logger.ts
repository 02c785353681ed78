import { pino, type DestinationStream, type Level, type Logger } from "pino";
import { escapeControls } from "../../../tiers/safe-text.js";

/** The catalog's log levels (phases.yaml `log_level`, seed 001's monitoring.logging.log_levels). */
export const CATALOG_LOG_LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] as const;
export type CatalogLogLevel = (typeof CATALOG_LOG_LEVELS)[number];

/** The orchestrator's level between phases and before a cycle starts. */
export const BASE_LOG_LEVEL: Level = "info";

/** pino's level for a catalog level; an unknown one is `info` (the plan schema keeps it a string). */
export function pinoLevel(catalog: string): Level {
  const l = catalog.toLowerCase();
  return (["trace", "debug", "info", "warn", "error"] as const).find((x) => x === l) ?? "info";
}

const NUMBERS: Readonly<Record<number, string>> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

/**
 * A human line for a terminal: `12:00:01.234 INFO  phase.started phase=idle attempt=1`. pino's own
 * JSON goes everywhere else (a file, a pipe, a collector); this is for someone watching `run-cycle`
 * or `serve` in a shell. Control characters are escaped so a value cannot rewrite the terminal.
 */
export function humanLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return escapeControls(json.trimEnd());
  }
  const { time, level, msg, pid: _pid, hostname: _host, level_name: _name, ...rest } = o;
  const at = typeof time === "number" ? new Date(time).toISOString().slice(11, 23) : "";
  const name = (NUMBERS[level as number] ?? String(level)).padEnd(5);
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return escapeControls(
    `${at} ${name} ${typeof msg === "string" ? msg : JSON.stringify(msg ?? "")}${fields ? ` ${fields}` : ""}`,
  );
}

/** A destination writing human lines (for a TTY). */
export function humanDestination(write: (line: string) => void): DestinationStream {
  return { write: (chunk: string) => write(`${humanLine(chunk)}\n`) };
}

export interface LoggerOptions {
  readonly environment: string;
  /** Where the JSON lines go (default: stderr, which is a pipe or a file for the local target). */
  readonly destination?: DestinationStream;
  readonly level?: Level;
}

/**
 * The orchestrator's structured log (pino, one JSON object per line on stderr: stdout carries the
 * commands' JSON protocol). Its level follows the phase being run: `setPhaseLevel` on each phase
 * start, `BASE_LOG_LEVEL` again after it. On a terminal the lines are made readable instead.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination =
    options.destination ??
    (process.stderr.isTTY ? humanDestination((l) => process.stderr.write(l)) : pino.destination(2));
  return pino(
    {
      level: options.level ?? BASE_LOG_LEVEL,
      base: { environment: options.environment },
      // Levels by name, as the catalog writes them and as Loki's `level` label is usually read.
      formatters: { level: (label, number) => ({ level: number, level_name: label }) },
    },
    destination,
  );
}
