import { startHttpLoad, type HttpLoadOptions, type HttpLoadRun } from "../adapters/http-load-run.js";

/**
 * Where a run of HTTP load is generated: in the orchestrator's own process (`inProcessLoad`,
 * `load_workers: 0`), in N local worker processes (local-workers.ts, the default: one), or in a
 * Kubernetes Indexed Job's pods (job-workers.ts, the cluster target). All three return the same
 * `HttpLoadRun`, whose report the http-load adapter parses; the phase load, the http-load tests and
 * the calibration all go through the environment's engine.
 */
export type LoadEngine = (options: HttpLoadOptions) => HttpLoadRun;

export const inProcessLoad: LoadEngine = startHttpLoad;
