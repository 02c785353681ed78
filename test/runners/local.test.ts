import Database from "better-sqlite3";
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CycleReport } from "../../workloads/central/analysis/report-model.js";
import { runTiers } from "../helpers/cli.js";
import { orchestratorsOf, processesOf, startLocalRun } from "../helpers/local-run.js";

/**
 * `tiers local` end to end, as a user runs it: real orchestrator processes with their own SUTs,
 * real tools, real bundles over the API, the real central import into SQLite, the real reports.
 * A short base-tier cycle (idle, baseline, light: about 10 s of phases after calibration).
 */
const SHORT = ["--tier", "base", "--time-scale", "0.004", "--environments", "2"];

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "tiers-local-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function portIsListening(port: number): boolean {
  // ss is not on every machine; /proc/net/tcp lists listening sockets (state 0A) with hex ports.
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  return readFileSync("/proc/net/tcp", "utf8")
    .split("\n")
    .slice(1)
    .some((line) => {
      const cols = line.trim().split(/\s+/);
      return cols[1]?.endsWith(`:${hex}`) && cols[3] === "0A";
    });
}

/** Torn down: no process of the run (by command line or process group), no port left listening. */
function expectTornDown(output: string, out: string): void {
  const orchestrators = orchestratorsOf(output);
  expect(
    processesOf(
      out,
      orchestrators.map((o) => o.pid),
    ),
  ).toStrictEqual([]);
  for (const o of orchestrators) expect(portIsListening(o.port), `port ${o.port}`).toBe(false);
}

/** A loopback port P with P + 1 free as well (at the time of asking): a --port-base for two environments. */
async function freePortPair(): Promise<number> {
  const listenOn = (port: number) =>
    new Promise<Server | undefined>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(undefined));
      s.listen({ host: "127.0.0.1", port, exclusive: true }, () => resolve(s));
    });
  const close = (s: Server | undefined) => new Promise<void>((r) => (s ? s.close(() => r()) : r()));
  for (;;) {
    const first = (await listenOn(0))!;
    const port = (first.address() as { port: number }).port;
    const second = port < 65535 ? await listenOn(port + 1) : undefined;
    await close(first);
    await close(second);
    if (second) return port;
  }
}

/** Resolves once `pid` holds `file` open (a link in /proc/<pid>/fd); rejects if it exits first. */
async function waitForOpenFile(pid: number, file: string, exited: Promise<number>): Promise<void> {
  let done = false;
  void exited.then(() => (done = true));
  for (;;) {
    if (done) throw new Error(`process ${pid} exited before it opened ${file}`);
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      // exited while we looked: the next round says so
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === file) return;
      } catch {
        // closed while we looked
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The pid an orchestrator logged in its `listening` event (`<run>/logs/<env>.log`). */
function listeningPid(runDir: string, env: string): number | undefined {
  const log = readFileSync(join(runDir, "logs", `${env}.log`), "utf8");
  const m = /"event":"listening".*?"pid":(\d+)/.exec(log);
  return m ? Number(m[1]) : undefined;
}

/** What is left in a run's TMPDIR but tsx's compile cache (`tsx-<uid>`, kept on purpose between runs). */
function leftInTmp(tmp: string): string[] {
  return readdirSync(tmp).filter((f) => !/^tsx-\d+$/.test(f));
}

function readReport(runDir: string): CycleReport {
  return JSON.parse(readFileSync(join(runDir, "report.json"), "utf8")) as CycleReport;
}

function runDirOf(output: string, out: string): string {
  const id = /^cycle (local-\S+),/m.exec(output)?.[1];
  expect(id, output).toBeDefined();
  return join(out, id!);
}

describe("tiers local: a whole tier on this machine", () => {
  it("runs two isolated environments through every phase, imports both bundles and writes the reports", async () => {
    const out = join(root, "e2e");
    const db = join(root, "e2e-central.db");
    const run = startLocalRun([...SHORT, "--out", out, "--db", db, "--keep"]);
    const code = await run.exited;
    const output = run.output();
    expect(code, output).toBe(0);
    const runDir = runDirOf(output, out);
    const cycleId = runDir.split("/").at(-1)!;

    // The report: both environments, every phase with real figures from real tools.
    const report = readReport(runDir);
    expect(report.cycle.cycle_id).toBe(cycleId);
    expect(report.cycle.tier).toBe("base");
    expect(report.cycle.verdict).toBe("passed");
    expect(report.environments.map((e) => [e.environment_id, e.verdict])).toStrictEqual([
      ["env-1", "passed"],
      ["env-2", "passed"],
    ]);
    expect(report.phases.map((p) => `${p.environment_id}/${p.phase}/${p.status}`)).toStrictEqual([
      "env-1/idle/completed",
      "env-1/baseline/completed",
      "env-1/light/completed",
      "env-2/idle/completed",
      "env-2/baseline/completed",
      "env-2/light/completed",
    ]);
    for (const p of report.phases.filter((x) => x.phase !== "idle")) {
      expect(p.achieved_rps, `${p.environment_id}/${p.phase}`).toBeGreaterThan(0);
      expect(p.requests).toBeGreaterThan(0);
      expect(p.p99_ms).toBeGreaterThan(0);
      expect(p.cpu?.mean).toBeGreaterThan(0);
    }
    for (const e of report.environments) {
      expect(e.saturation_rps).toBeGreaterThan(0);
      expect(e.counts.samples).toBeGreaterThan(0);
      // Each phase of each environment has measured statistics, idle included (the sampler and stress-ng).
      for (const phase of ["idle", "baseline", "light"]) {
        expect(
          report.statistics.filter(
            (s) => s.environment_id === e.environment_id && s.phase === phase && s.count > 0,
          ).length,
          `${e.environment_id}/${phase}`,
        ).toBeGreaterThan(0);
      }
    }
    const tools = new Set(report.contracts.map((c) => c.tool));
    expect([...tools].sort()).toStrictEqual(["fio", "http-load", "iperf3", "stress-ng"]);
    expect(report.contracts.filter((c) => c.status === "passed").length).toBe(report.contracts.length);
    // The reports in all four formats, the summary printed with their paths.
    expect(readFileSync(join(runDir, "report.html"), "utf8")).toContain(cycleId);
    expect(readFileSync(join(runDir, "report.md"), "utf8")).toContain(
      `cycle \`${cycleId}\` — base / default: **passed**`,
    );
    execFileSync("xmllint", ["--noout", join(runDir, "report.junit.xml")]);
    expect(output).toMatch(/^env-1 +us-east-1 +baseline +completed/m);
    expect(output).toContain(`report (html): `);
    expect(output).toMatch(/^verdict: passed \(exit 0, --fail-on gate\)$/m);
    // Non-TTY progress: timestamped lines with phase, elapsed / total and gate verdicts.
    expect(output).toMatch(/^\[\d\d:\d\d:\d\d\] env-2 +us-east-1 +light 3\/3 +00:0\d\/00:10/m);
    expect(output).toMatch(/gates: idle [✓!] baseline [✓!]/);

    // Each environment: its own directory, token (0600), key, plan, SQLite holding only its rows.
    const orchestrators = orchestratorsOf(output);
    expect(orchestrators.map((o) => o.env)).toStrictEqual(["env-1", "env-2"]);
    expect(new Set(orchestrators.map((o) => o.port)).size).toBe(2);
    const keys = new Set<string>();
    for (const env of ["env-1", "env-2"]) {
      const dir = join(runDir, "environments", env);
      expect(statSync(join(dir, "api-token")).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, "data", "keys", "bundle-signing.pem")).mode & 0o077).toBe(0);
      const sqlite = new Database(join(dir, "data", "env.db"), { readonly: true });
      try {
        const cycles = sqlite.prepare("SELECT cycle_id, environment FROM cycles").all();
        expect(cycles).toStrictEqual([{ cycle_id: cycleId, environment: env }]);
        const results = sqlite.prepare("SELECT result_json FROM results").all() as { result_json: string }[];
        expect(results.length).toBe(
          report.environments.find((e) => e.environment_id === env)!.counts.results,
        );
        expect(
          new Set(results.map((r) => (JSON.parse(r.result_json) as { environment: string }).environment)),
        ).toStrictEqual(new Set([env]));
      } finally {
        sqlite.close();
      }
    }
    // The keyring the centre used: exactly the two environments, each with its own key.
    const keyring = [...readFileSync(join(runDir, "keyring"), "utf8").matchAll(/^(env-\d) ed25519 (\S+)/gm)];
    expect(keyring.map((m) => m[1])).toStrictEqual(["env-1", "env-2"]);
    for (const m of keyring) keys.add(m[2]!);
    expect(keys.size).toBe(2);
    expect(readdirSync(join(runDir, "inbox", "imported")).length).toBe(2);

    // Torn down: no process of the run, no port left listening.
    expectTornDown(output, out);

    // A second run into the same database is compared with the first (the last passing run).
    const second = startLocalRun([...SHORT, "--environments", "1", "--out", out, "--db", db]);
    expect(await second.exited, second.output()).toBe(0);
    const secondDir = runDirOf(second.output(), out);
    const again = readReport(secondDir);
    expect(again.comparison.baseline).toBe(cycleId);
    expect(again.comparison.selected).toBe("last_passing_run");
    expect(again.comparison.changes.length).toBeGreaterThan(0);
    expect(second.output()).toContain(`Compared with ${cycleId} (the last passing run): `);
    // Without --keep the environment directories are gone; the reports and bundles stay.
    expect(existsSync(join(secondDir, "environments"))).toBe(false);
    expect(readdirSync(join(secondDir, "inbox", "imported")).length).toBe(1);
  }, 240_000);

  it("runs without iperf3, fio and stress-ng: says so first, records their tests as skipped, passes", async () => {
    const out = join(root, "no-tools");
    const empty = mkdtempSync(join(tmpdir(), "tiers-empty-path-"));
    // Only node is needed (started by absolute path); every tool is looked up on PATH.
    const run = startLocalRun(
      [...SHORT, "--environments", "1", "--out", out, "--db", join(root, "no-tools.db")],
      {
        PATH: empty,
      },
    );
    const code = await run.exited;
    const output = run.output();
    expect(code, output).toBe(0);
    for (const [tool, tests] of [
      ["iperf3", "baseline/iperf_loopback"],
      ["fio", "baseline/fio_randrw"],
      ["stress-ng", "idle/cpu_headroom"],
    ] as const) {
      expect(output).toMatch(
        new RegExp(
          `^skipped on this target: ${tool}: tool not installed: ${tool} not found on PATH \\(Debian package ${tool}\\); affects ${tests.replace("/", "\\/")}$`,
          "m",
        ),
      );
    }
    const report = readReport(runDirOf(output, out));
    const byTool = new Map<string, string[]>();
    for (const c of report.contracts) byTool.set(c.tool, [...(byTool.get(c.tool) ?? []), c.status]);
    expect(byTool.get("iperf3")).toStrictEqual(["skipped"]);
    expect(byTool.get("fio")).toStrictEqual(["skipped"]);
    expect(byTool.get("stress-ng")).toStrictEqual(["skipped"]);
    expect(new Set(byTool.get("http-load"))).toStrictEqual(new Set(["passed"]));
    expect(report.contracts.find((c) => c.tool === "fio")!.reason).toMatch(/^tool not installed: fio/);
    expect(output).toMatch(/^ {2}skipped {1}env-1 baseline\/fio_randrw \(fio\): tool not installed: fio/m);
    rmSync(empty, { recursive: true, force: true });
  }, 120_000);

  it("exits 4 when a gate aborts: the later phases are not run, and the report says so", async () => {
    const out = join(root, "gate");
    const suite = join(root, "strict-suite.yaml");
    // A gate no real SUT can pass: p95 latency above 0.001 ms aborts the cycle after baseline.
    writeFileSync(
      suite,
      [
        "test_suites:",
        "  strict:",
        "    name: Strict",
        "    gates:",
        "      baseline:",
        "        - { when: { metric: p95_latency, op: '>', value: 0.001, unit: ms }, action: abort }",
        "    tests:",
        "      - { name: http_probe, tool: http-load, phases: [baseline, light], parameters: { path: /work, connections: 1, rps: 20, duration: 1 } }",
        "",
      ].join("\n"),
    );
    const run = startLocalRun([
      ...SHORT,
      "--environments",
      "1",
      "--suite",
      suite,
      "--out",
      out,
      "--db",
      join(root, "gate.db"),
    ]);
    const code = await run.exited;
    const output = run.output();
    expect(code, output).toBe(4);
    const report = readReport(runDirOf(output, out));
    expect(report.cycle.verdict).toBe("failed");
    expect(report.phases.map((p) => [p.phase, p.status, p.gate_verdict])).toStrictEqual([
      ["idle", "completed", "passed"],
      ["baseline", "completed", "aborted"],
      ["light", "not_run", "not_run"],
    ]);
    expect(output).toMatch(/^ {2}gate {4}env-1 baseline \S+: p95_latency_ms [\d.]+ > 1\.0e-3 \(suite\)$/m);
    expect(output).toMatch(/^verdict: failed \(exit 4, --fail-on gate\)$/m);
    // The same run with --fail-on never reports the failure and exits 0.
    const lenient = await runTiers([
      "local",
      ...SHORT,
      "--environments",
      "1",
      "--suite",
      suite,
      "--out",
      out,
      "--db",
      join(root, "gate.db"),
      "--fail-on",
      "never",
    ]);
    expect(lenient.code, lenient.stdout + lenient.stderr).toBe(0);
    expect(lenient.stdout).toMatch(/^verdict: failed \(exit 0, --fail-on never\)$/m);
  }, 180_000);

  it("reports every bad option at once, names the suite's unknown tool by line, and starts nothing", async () => {
    const out = join(root, "bad");
    const r = await runTiers([
      "local",
      "--fail-on",
      "sometimes",
      "--port-base",
      "80",
      "--time-scale",
      "fast",
      "--out",
      out,
    ]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("error: invalid configuration: 3 problems");
    expect(r.stderr).toContain(
      'command line --fail-on: unknown value (got "sometimes", expected gate, contract, never)',
    );
    expect(r.stderr).toContain(
      'command line --port-base: not a usable port (got "80", expected an integer from 1024 to 65000)',
    );
    expect(r.stderr).toMatch(/--time-scale.*"fast"/);
    expect(existsSync(out)).toBe(false);

    const suite = join(root, "suite.yaml");
    writeFileSync(
      suite,
      [
        "test_suites:",
        "  mine:",
        "    name: Mine",
        "    tests:",
        "      - name: probe",
        "        tool: wrk",
        "        phases: [baseline]",
        "        parameters: { duration: 2 }",
        "",
      ].join("\n"),
    );
    const s = await runTiers(["local", "--suite", suite, "--out", out]);
    expect(s.code).toBe(3);
    expect(s.stderr).toMatch(
      new RegExp(`${suite.replaceAll("/", "\\/")}:6:\\d+ test_suites\\.mine\\.tests\\[0\\]\\.tool: .*"wrk"`),
    );
    expect(existsSync(out)).toBe(false);
  });

  it("refuses an unwritable output directory and a port in use before anything starts", async () => {
    const file = join(root, "a-file");
    writeFileSync(file, "");
    const r = await runTiers(["local", "--out", join(file, "sub")]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      `command line --out: the output directory is not writable: ENOTDIR (got ${JSON.stringify(join(file, "sub"))}, expected a directory this user can create and write)`,
    );

    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const out = join(root, "busy");
      const b = await runTiers(["local", "--port-base", String(port - 1), "--out", out]);
      expect(b.code).toBe(6);
      expect(b.stderr).toContain(`127.0.0.1:${port} (for env-2) is already in use`);
      expect(b.stderr).toContain("nothing was started");
      expect(readdirSync(out)).toStrictEqual([]);
    } finally {
      server.close();
    }
  });
});

describe("tiers local: faults and interruptions", () => {
  it("reports an orchestrator that dies mid-cycle, still imports the other environment, and tears down", async () => {
    const out = join(root, "died");
    const run = startLocalRun([
      ...SHORT,
      "--time-scale",
      "0.01",
      "--out",
      out,
      "--db",
      join(root, "died.db"),
    ]);
    await run.waitFor(/env-2 +us-east-1 +baseline 2\/3/);
    const victim = orchestratorsOf(run.output()).find((o) => o.env === "env-2")!;
    process.kill(-victim.pid, "SIGKILL");
    const code = await run.exited;
    const output = run.output();
    expect(code, output).toBe(6);
    expect(output).toMatch(
      new RegExp(
        `^FAILED env-2: no bundle: orchestrator process ${victim.pid} exited \\(SIGKILL\\).* during phase baseline`,
        "m",
      ),
    );
    const report = readReport(runDirOf(output, out));
    expect(report.environments.map((e) => [e.environment_id, e.verdict])).toStrictEqual([
      ["env-1", "passed"],
    ]);
    expect(report.phases.filter((p) => p.status === "completed").length).toBe(3);
    expect(output).toMatch(/^verdict: passed, 1 environment problem \(exit 6, --fail-on gate\)$/m);
    expectTornDown(output, out);
  }, 120_000);

  // SIGINT at several points of the lifecycle: nothing may be left running or listening.
  const points: [string, RegExp][] = [
    ["while the environments start", /^cycle local-/m],
    ["during calibration", /env-1: cycle \S+ triggered/],
    ["during a phase", /env-1 +us-east-1 +baseline 2\/3/],
    ["while the bundles are handed over", /handed over to/],
  ];
  for (const [when, marker] of points) {
    it(`Ctrl-C ${when} stops every process, frees every port and exits 130`, async () => {
      const out = join(root, `sigint-${points.findIndex((p) => p[0] === when)}`);
      const run = startLocalRun([...SHORT, "--out", out, "--db", join(root, "sigint.db")]);
      await run.waitFor(marker);
      run.child.kill("SIGINT");
      const code = await run.exited;
      const output = run.output();
      if (code !== 130) {
        // Handed over and finished before the signal landed: then it must have completed normally.
        expect(when, output).toBe("while the bundles are handed over");
        expect(code, output).toBe(0);
      } else {
        expect(output).toContain("SIGINT: stopping the run and tearing everything down");
        expect(output).toMatch(/error: interrupted/);
      }
      if (code === 130 && when === "while the bundles are handed over") {
        // Nothing imported, nothing lost: the bundles wait in the inbox and the centre takes them later.
        const m = /tiers central import (\S+) --keyring (\S+)/.exec(output);
        expect(m, output).not.toBeNull();
        const later = await runTiers([
          "central",
          "import",
          m![1]!,
          "--keyring",
          m![2]!,
          "--db",
          join(out, "later.db"),
        ]);
        expect(later.code, later.stdout + later.stderr).toBe(0);
        expect(later.stdout.match(/^imported /gm)?.length).toBe(2);
      }
      expectTornDown(output, out);
      // Environment directories are removed on interrupt too (no --keep).
      expect(existsSync(join(out, readdirSync(out)[0] ?? "none", "environments"))).toBe(false);
    }, 120_000);
  }

  it("a second Ctrl-C kills every process group at once", async () => {
    const out = join(root, "sigint-twice");
    const run = startLocalRun([...SHORT, "--out", out, "--db", join(root, "sigint.db")]);
    await run.waitFor(/env-2 +us-east-1 +baseline 2\/3/);
    run.child.kill("SIGINT");
    await run.waitFor(/tearing down/);
    run.child.kill("SIGINT");
    const code = await run.exited;
    const output = run.output();
    expect(code, output).toBe(130);
    expect(output).toContain("SIGINT again: killing every process of the run");
    expectTornDown(output, out);
  }, 120_000);

  it("SIGTERM during a phase stops every process, frees every port, removes its directories and exits 130", async () => {
    const out = join(root, "sigterm");
    // The run's own temp directory (its TLS keys go under TMPDIR): empty again after teardown.
    const tmp = join(root, "sigterm-tmp");
    mkdirSync(tmp);
    const run = startLocalRun([...SHORT, "--out", out, "--db", join(root, "sigterm.db")], { TMPDIR: tmp });
    await run.waitFor(/env-1 +us-east-1 +baseline 2\/3/);
    expect(
      leftInTmp(tmp).some((f) => f.startsWith("tiers-tls-")),
      "the run's TLS directory",
    ).toBe(true);
    run.child.kill("SIGTERM");
    const code = await run.exited;
    const output = run.output();
    expect(code, output).toBe(130);
    expect(output).toContain("SIGTERM: stopping the run and tearing everything down");
    expect(output).toMatch(/^tearing down: stopping 2 orchestrator process groups$/m);
    expect(output).toMatch(/^stopped: every process of the run has exited, 2 ports free$/m);
    expect(output).toMatch(/error: interrupted/);
    expect(output).not.toMatch(/^\d+ bundles? imported/m);
    expectTornDown(output, out);
    expect(existsSync(join(runDirOf(output, out), "environments"))).toBe(false);
    expect(leftInTmp(tmp)).toStrictEqual([]);
  }, 120_000);

  it("one of two environments cannot start (its port taken after the checks): exit 6, why, and the one that started is stopped", async () => {
    const out = join(root, "start-fails");
    const tmp = join(root, "start-fails-tmp");
    mkdirSync(tmp);
    const db = join(root, "start-fails.db");
    const base = await freePortPair();
    // Hold the results database's write lock: the run checks its ports (both free), opens the
    // database and waits for the lock; only then is env-2's port taken, and the lock released.
    const lock = new Database(db);
    lock.pragma("journal_mode = WAL");
    lock.exec("BEGIN EXCLUSIVE");
    let locked = true;
    const squatter: Server = createServer();
    try {
      const run = startLocalRun([...SHORT, "--port-base", String(base), "--out", out, "--db", db], {
        TMPDIR: tmp,
        TIERS_DB_BUSY_TIMEOUT_MS: "600000",
      });
      await waitForOpenFile(run.child.pid!, db, run.exited);
      await new Promise<void>((resolve, reject) => {
        squatter.once("error", reject);
        squatter.listen({ host: "127.0.0.1", port: base + 1, exclusive: true }, resolve);
      });
      lock.exec("COMMIT");
      lock.close();
      locked = false;
      const code = await run.exited;
      const output = run.output();
      expect(code, output).toBe(6);
      expect(output).toMatch(/^error: 1 of 2 environments did not start$/m);
      expect(output).toMatch(
        new RegExp(
          `orchestrator env-2 exited before it listened \\(code \\d+\\): .*EADDRINUSE.*127\\.0\\.0\\.1:${base + 1}`,
        ),
      );
      // env-1 had started (its log says where it listened) and was stopped: its process group is
      // empty, its port free, its directories gone.
      const runDir = runDirOf(output, out);
      const pid = listeningPid(runDir, "env-1");
      expect(pid, readFileSync(join(runDir, "logs", "env-1.log"), "utf8")).toBeDefined();
      expect(listeningPid(runDir, "env-2")).toBeUndefined();
      expect(output).toMatch(/^tearing down: stopping 2 orchestrator process groups$/m);
      expect(output).toMatch(/^stopped: every process of the run has exited, 1 port free$/m);
      expect(processesOf(out, [pid!])).toStrictEqual([]);
      expect(portIsListening(base)).toBe(false);
      expect(existsSync(join(runDir, "environments"))).toBe(false);
      expect(leftInTmp(tmp)).toStrictEqual([]);
      // Nothing ran, nothing was imported.
      expect(output).not.toMatch(/cycle \S+ triggered/);
      expect(existsSync(join(runDir, "inbox"))).toBe(false);
    } finally {
      if (locked) lock.close();
      squatter.close();
    }
  }, 120_000);
});
