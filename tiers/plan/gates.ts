import { gateRefProblem } from "../catalog.js";
import {
  GATE_CHECKS,
  type Condition,
  type GateCheck,
  type GateRuleSpec,
  type Monitoring,
} from "../schema/catalog.js";
import type { PhaseName } from "../schema/names.js";
import type { SuiteSpec } from "../schema/suite.js";
import { suiteIssue, type CompileContext } from "./context.js";
import type { GateRule } from "./schema.js";

/** A condition in canonical units: rates as ratios, latencies in ms, usage in percent. */
export function normalizeCondition(c: Condition): {
  metric: string;
  op: Condition["op"];
  threshold: number;
  unit: string;
} {
  if (c.unit === "percent" && /rate$/.test(c.metric))
    return { metric: c.metric, op: c.op, threshold: c.value / 100, unit: "ratio" };
  if (c.unit === "s")
    return {
      metric: c.metric.endsWith("_ms") ? c.metric : `${c.metric}_ms`,
      op: c.op,
      threshold: c.value * 1000,
      unit: "ms",
    };
  if (c.unit === "ms")
    return {
      metric: c.metric.endsWith("_ms") ? c.metric : `${c.metric}_ms`,
      op: c.op,
      threshold: c.value,
      unit: "ms",
    };
  return { metric: c.metric, op: c.op, threshold: c.value, unit: c.unit };
}

function conditionOf(monitoring: Monitoring, ref: string): Condition | undefined {
  const [kind, name] = ref.split(":");
  if (kind === "alert") return monitoring.alerts.find((a) => a.name === name)?.condition;
  if (kind === "rollback") return monitoring.rollback.strategies.find((s) => s.name === name)?.trigger;
  return undefined;
}

/**
 * The gate after a phase: the suite's rules for that phase (or its default), else the catalog's.
 * Rules naming an alert or rollback strategy take its condition, so thresholds live once.
 */
export function compileGate(
  ctx: CompileContext,
  suiteId: string,
  suite: SuiteSpec,
  phase: PhaseName,
): GateRule[] {
  const { monitoring } = ctx.catalog;
  const fromSuite = suite.gates?.[phase]
    ? { key: phase, rules: suite.gates[phase] }
    : suite.gates?.default
      ? { key: "default", rules: suite.gates.default }
      : undefined;
  const specs: readonly GateRuleSpec[] =
    fromSuite?.rules ?? monitoring.gates[phase] ?? monitoring.gates.default;
  const out: GateRule[] = [];
  specs.forEach((spec, i) => {
    const id = `${phase}.gate.${i + 1}`;
    if (typeof spec.when === "object") {
      const n = normalizeCondition(spec.when);
      out.push({ id, action: spec.action, source: "suite", check: "metric", ...n });
      return;
    }
    if (!isGateCheck(spec.when)) {
      const problem = gateRefProblem(monitoring, spec.when);
      if (problem) {
        if (fromSuite)
          ctx.issues.add(
            suiteIssue(ctx, ["test_suites", suiteId, "gates", fromSuite.key, i, "when"], problem),
          );
        return;
      }
      const c = conditionOf(monitoring, spec.when)!;
      out.push({ id, action: spec.action, source: spec.when, check: "metric", ...normalizeCondition(c) });
      return;
    }
    if (spec.when === "sut_not_recovered") {
      out.push({
        id,
        action: spec.action,
        source: "rollback.automation.detection_time_s",
        check: spec.when,
        within_ms: Math.round(monitoring.rollback.automation.detection_time_s * 1000),
      });
      return;
    }
    if (spec.when === "fault_recovery_missed") {
      // Seed 001's automation targets, per fault: detection < 30 s, recovery (rollback) < 2 min.
      const a = monitoring.rollback.automation;
      out.push({
        id,
        action: spec.action,
        source: "rollback.automation",
        check: spec.when,
        detect_within_ms: Math.round(a.detection_time_s * 1000),
        within_ms: Math.round(a.rollback_time_s * 1000),
      });
      return;
    }
    out.push({ id, action: spec.action, source: spec.when, check: spec.when });
  });
  return out;
}

function isGateCheck(when: string): when is GateCheck {
  return (GATE_CHECKS as readonly string[]).includes(when);
}
