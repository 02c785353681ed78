/**
 * Defaults a stack and the plan's printed workflow share, kept free of Pulumi so `tiers plan` runs
 * without the optional Pulumi packages.
 */

/** Images of this project's own release, pinned. */
export const DEFAULT_IMAGES = {
  orchestrator: "ghcr.io/test-tiers/orchestrator:0.1.0",
  sut: "ghcr.io/test-tiers/sut:0.1.0",
} as const;

/** The SUT's port when the stack does not set `sut.port`. */
export const DEFAULT_SUT_PORT = 8080;

/** The environment's iperf3 server port (TCP control and data, UDP data). */
export const IPERF3_PORT = 5201;
