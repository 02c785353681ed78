import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../tiers/catalog.js";
import { compilePlan } from "../../../tiers/plan/compile.js";
import { resolvePlanOptions } from "../../../tiers/plan/options.js";
import { EnvStore } from "../../../workloads/orchestrator/storage/env-store.js";
import { SCHEMA_VERSION } from "../../../workloads/orchestrator/storage/migrations.js";
import { makeResult } from "../../helpers/results.js";

const plan = compilePlan({
  resolved: resolvePlanOptions({ defaults: {}, cli: { tier: "base" } }),
  catalog: loadCatalog(),
});
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "env-store-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("environment storage", () => {
  it("creates the schema, in WAL mode, at the latest version", () => {
    const store = EnvStore.open(join(dir, "env.db"));
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    store.close();
    // reopening does not migrate twice
    const again = EnvStore.open(join(dir, "env.db"));
    expect(again.schemaVersion).toBe(SCHEMA_VERSION);
    expect(again.integrityCheck()).toBe("ok");
    again.close();
  });

  it("commits a result once per (cycle, test): a second commit changes nothing", () => {
    const store = EnvStore.open(join(dir, "env.db"));
    store.createCycle("c1", "env-1", plan, new Date().toISOString());
    const first = makeResult({ cycle_id: "c1", test_id: "baseline/iperf" });
    expect(store.commitResult(first)).toBe(true);
    expect(store.commitResult(makeResult({ cycle_id: "c1", test_id: "baseline/iperf" }))).toBe(false);
    expect(store.commitResult(makeResult({ cycle_id: "c1", test_id: "light/iperf" }))).toBe(true);
    expect([...store.results("c1")].map((r) => r.result_id)).toStrictEqual([
      first.result_id,
      expect.any(String),
    ]);
    expect(store.committedTestIds("c1")).toStrictEqual(new Set(["baseline/iperf", "light/iperf"]));
    store.close();
  });

  it("refuses a result that does not match the Result schema, before touching the database", () => {
    const store = EnvStore.open(join(dir, "env.db"));
    store.createCycle("c1", "env-1", plan, new Date().toISOString());
    expect(() =>
      store.commitResult({ ...makeResult({ cycle_id: "c1", test_id: "x" }), status: "maybe" as never }),
    ).toThrow(/status/);
    expect(store.countResults("c1")).toBe(0);
    store.close();
  });

  it("keeps only a phase's last attempt's samples in the cycle's record", () => {
    const store = EnvStore.open(join(dir, "env.db"));
    store.createCycle("c1", "env-1", plan, new Date().toISOString());
    expect(store.startPhase("c1", "baseline", 1, new Date().toISOString())).toBe(1);
    store.insertSamples("c1", 1, [{ ts_ms: 1, phase: "baseline", series: "sut.cpu_pct", value: 11 }]);
    expect(store.startPhase("c1", "baseline", 1, new Date().toISOString())).toBe(2);
    store.insertSamples("c1", 2, [
      { ts_ms: 2, phase: "baseline", series: "sut.cpu_pct", value: 22 },
      { ts_ms: 3, phase: "baseline", series: "sut.cpu_pct", value: 33 },
    ]);
    store.insertSamples("c1", 0, [{ ts_ms: 0, phase: null, series: "calibration.rps", value: 500 }]);
    expect([...store.samples("c1")].map((s) => s.value)).toStrictEqual([22, 33, 500]);
    expect(store.seriesValues("c1", "baseline", 1, "sut.cpu_pct")).toStrictEqual([11]);
    store.close();
  });

  it("numbers events per cycle and gives them back in order", () => {
    const store = EnvStore.open(join(dir, "env.db"));
    store.createCycle("c1", "env-1", plan, new Date().toISOString());
    store.appendEvent("c1", {
      ts_ms: 5,
      phase: "chaos",
      kind: "fault.applied",
      scenario: "pod_kill",
      detail: { pid: 1 },
    });
    store.appendEvent("c1", {
      ts_ms: 6,
      phase: "chaos",
      kind: "fault.undone",
      scenario: "pod_kill",
      detail: {},
    });
    expect([...store.events("c1")].map((e) => e.kind)).toStrictEqual(["fault.applied", "fault.undone"]);
    store.close();
  });
});

describe("storage failures stop with a clear error and leave the database sound", () => {
  const mountpoint = () => join(dir, "small");
  let mounted = false;
  beforeEach(() => {
    mkdirSync(mountpoint());
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountpoint()], { stdio: "pipe" });
      mounted = true;
    } catch (error) {
      // Without permission to mount, the database's own page limit plays the full disk.
      console.log(
        `tmpfs not available (${(error as Error).message.split("\n")[0]}); using PRAGMA max_page_count`,
      );
      mounted = false;
    }
  });
  afterEach(() => {
    if (mounted) execFileSync("umount", ["-l", mountpoint()]);
  });

  it("a full disk: SQLITE_FULL named, committed results intact, integrity ok", () => {
    const file = join(mountpoint(), "env.db");
    const store = EnvStore.open(file);
    if (!mounted) (store as unknown as { db: { pragma(s: string): void } }).db.pragma("max_page_count = 64");
    store.createCycle("c1", "env-1", plan, new Date().toISOString());
    const committed = makeResult({ cycle_id: "c1", test_id: "baseline/first" });
    store.commitResult(committed);
    const big = Array.from({ length: 2000 }, (_, i) => ({
      ts_ms: i,
      phase: "baseline" as const,
      series: "load.rps".repeat(20),
      value: i,
    }));
    let error: Error | undefined;
    try {
      for (let i = 0; i < 200; i++) store.insertSamples("c1", 1, big);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(
      /^environment storage .*env\.db: cannot store samples: the disk \(or the database's size limit\) is full \(SQLITE_FULL\)$/,
    );
    expect([...store.results("c1")].map((r) => r.result_id)).toStrictEqual([committed.result_id]);
    expect(store.integrityCheck()).toBe("ok");
    store.close();
  });

  it("read-only storage: SQLITE_READONLY named, nothing half-written", () => {
    if (!mounted) {
      console.log("read-only storage case needs tmpfs (mount not permitted here); skipped");
      return;
    }
    const file = join(mountpoint(), "env.db");
    const store = EnvStore.open(file);
    store.createCycle("c1", "env-1", plan, new Date().toISOString());
    store.commitResult(makeResult({ cycle_id: "c1", test_id: "baseline/first" }));
    store.close();
    execFileSync("mount", ["-o", "remount,ro", mountpoint()]);
    let error: Error | undefined;
    try {
      const ro = EnvStore.open(file);
      ro.commitResult(makeResult({ cycle_id: "c1", test_id: "baseline/second" }));
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toBe(
      `environment storage ${file}: cannot open the database: the storage is read-only (EROFS) (SQLITE_CANTOPEN)`,
    );
    execFileSync("mount", ["-o", "remount,rw", mountpoint()]);
    const check = EnvStore.open(file);
    expect(check.integrityCheck()).toBe("ok");
    expect([...check.committedTestIds("c1")]).toStrictEqual(["baseline/first"]);
    check.close();
  });
});
