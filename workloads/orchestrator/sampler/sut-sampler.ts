import type { PhaseName } from "../../../tiers/schema/names.js";
import type { Sample } from "../../shared/cycle.js";
import type { EnvironmentRuntime } from "../controller/runtime.js";
import { MetricsSampler } from "./metrics-sampler.js";
import { ProcessSampler } from "./process-sampler.js";

export interface SutSampler {
  start(): void;
  /** Samples now: the CPU since the previous sample (none on the first) and the RSS. */
  sampleNow(): readonly Sample[] | Promise<readonly Sample[]>;
  /** Stops sampling; resolves once nothing more will be emitted. */
  stop(): Promise<void> | void;
}

/**
 * The SUT's sampler for a runtime: its processes where this orchestrator can see them (the local
 * target), else its own `/metrics` (a container, a pod). The phase runner samples a whole phase
 * with it; the `run-test` step a load segment's run.
 */
export function sutSampler(
  runtime: Pick<EnvironmentRuntime, "sutMetricsUrl" | "sampleRoots" | "cores">,
  phase: () => PhaseName | null,
  onSample: (sample: Sample) => void,
): SutSampler {
  return runtime.sutMetricsUrl
    ? new MetricsSampler({ url: runtime.sutMetricsUrl, cores: runtime.cores, phase, onSample })
    : new ProcessSampler({ roots: runtime.sampleRoots, cores: runtime.cores, phase, onSample });
}
