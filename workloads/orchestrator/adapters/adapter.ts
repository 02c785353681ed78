import type { ContractSpec, ResultUnit } from "../../../tiers/schema/contract.js";
import type { PhaseName, ToolName } from "../../../tiers/schema/names.js";
import type { LoadEngine } from "../load/engine.js";
import type { Invocation } from "../process/spawn.js";
import type { LoadSecond } from "./http-load-run.js";
import type { Metrics } from "./output.js";

/**
 * A tool adapter turns a test's validated parameters into a tool run and the tool's raw output
 * into metrics (seed 000: contract validator → tool adapter → results parser). Adapters are small
 * and stateless, one per file, made from an `AdapterConfig`; what a run starts (a process, an
 * iperf3 server, scratch files) lives in the `PreparedInvocation` and is undone by its `cleanup`.
 * `run-test.ts` drives them and applies the contract.
 */

export type Params = Readonly<Record<string, unknown>>;

/** What a tool left behind, decoded as UTF-8 (invalid bytes become U+FFFD; the raw bytes are kept as files). */
export interface RawOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number | null;
  /** Result files the tool wrote (stress-ng's YAML, elbencho's JSON), by name; absent when it wrote none. */
  readonly files: Readonly<Record<string, string>>;
}

/**
 * What `parse` made of a raw output:
 * - `ok` with metrics: the output was readable. `toolError` when the tool says it failed
 *   (iperf3's `error` key, a fio job's `error`) — the run is then `failed`, metrics kept.
 * - not `ok`: the output is malformed, truncated, empty or hostile — the Result is `invalid`.
 */
export type ParseOutcome =
  | { readonly ok: true; readonly metrics: Metrics; readonly toolError?: string }
  | { readonly ok: false; readonly problem: string };

/** Where an adapter finds its tool. */
export interface AdapterConfig {
  /** A name looked up on PATH, or a path (the environment's `tools` entry, else the catalog's `binary`). */
  readonly binary: string | null;
}

/** Everything a run needs from its environment. */
export interface RunContext {
  readonly cycleId: string;
  readonly environment: string;
  readonly phase: PhaseName;
  /** 1 for the first try of a test in a cycle. */
  readonly attempt?: number;
  /** Receives each run's untouched output as `<result_id>.stdout`, `.stderr`, `.<file>`; Results refer to `raw/<name>`. */
  readonly rawDir: string;
  /** Scratch space for the tools' own files (fio data files, stress-ng temp files). */
  readonly scratchDir: string;
  /** Base URL of the environment's SUT: the target of an http-load test without `url`. */
  readonly sutUrl?: string;
  /** An iperf3 server to measure against; without one (and no `server` parameter) the adapter starts its own. */
  readonly iperf3Server?: { readonly host: string; readonly port: number };
  /** Tool binaries by tool (the plan environment's `tools`); the rest are looked up on PATH. */
  readonly tools?: Readonly<Partial<Record<ToolName, string>>>;
  /** Cancels the run: the tool's process tree is stopped and the Result says `cancelled`. */
  readonly signal?: AbortSignal;
  /** Where an http-load run generates its load (the environment's engine); absent: in this process. */
  readonly load?: LoadEngine;
  /** Called with each second's figures while an http-load test runs. */
  readonly onLoadSecond?: (second: LoadSecond) => void;
  /** PATH to search (default `process.env.PATH`). */
  readonly path?: string;
}

/** A process invocation ready to run, and how to undo what preparing it started. */
export interface PreparedInvocation {
  readonly invocation: Invocation;
  /** Files the tool will write that `parse` reads, name → path. */
  readonly outputFiles?: Readonly<Record<string, string>>;
  /** Stops and removes what `prepare` started or created. Called once, whatever happened. */
  cleanup(): Promise<void>;
}

interface AdapterCommon {
  readonly tool: ToolName;
  /** Units of the metrics this adapter produces (a contract's `unit` takes precedence). */
  readonly units: Readonly<Record<string, ResultUnit>>;
  /** Checks beyond the contract (messages as `name: what is wrong`); a problem makes the Result `invalid`. */
  checkParameters?(params: Params): string[];
  /** Reads metrics from a raw output. Must not throw, whatever the output is. */
  parse(raw: RawOutput, params: Params, contract: ContractSpec): ParseOutcome;
}

/** An adapter that runs an external program. */
export interface ProcessAdapter extends AdapterCommon {
  readonly kind: "process";
  /** The executable to look for (the `command` adapter takes it from the parameters). */
  executable(params: Params): string | null;
  /** Arguments that print the version, or null when the tool has none. */
  readonly versionArgs: readonly string[] | null;
  parseVersion(output: string): string | null;
  prepare(params: Params, ctx: RunContext, executablePath: string): Promise<PreparedInvocation>;
}

/** An adapter that runs inside the orchestrator's own process (autocannon). */
export interface InProcessAdapter extends AdapterCommon {
  readonly kind: "in-process";
  readonly version: string | null;
  /** Runs until done or `signal` aborts (then returns what was measured so far). */
  execute(params: Params, ctx: RunContext, signal: AbortSignal): Promise<RawOutput>;
}

export type ToolAdapter = ProcessAdapter | InProcessAdapter;
