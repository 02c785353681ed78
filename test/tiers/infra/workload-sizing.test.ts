import { describe, expect, it } from "vitest";
import {
  IPERF3_RESOURCES,
  MIN_SUT_RESOURCES,
  ORCHESTRATOR_RESOURCES,
  sizeWorkloads,
} from "../../../tiers/infra/workload-sizing.js";

const GIB = 2 ** 30;
const MI = 2 ** 20;

describe("sizeWorkloads", () => {
  it("gives the SUT half of what the orchestrator and iperf3 leave, requests equal to limits", () => {
    const r = sizeWorkloads({ cpu_millis: 6000, memory_bytes: 4 * GIB }, { replicas: 2 });
    expect(r).toStrictEqual({
      ok: true,
      sizes: {
        orchestrator: ORCHESTRATOR_RESOURCES,
        iperf3: IPERF3_RESOURCES,
        sut: {
          requests: { cpu_millis: 1000, memory_bytes: 704 * MI },
          limits: { cpu_millis: 1000, memory_bytes: 704 * MI },
        },
      },
    });
  });

  it("caps a default SUT at what one node offers", () => {
    const r = sizeWorkloads(
      { cpu_millis: 100_000, memory_bytes: 400 * GIB },
      { replicas: 1 },
      { cpu_millis: 7200, memory_bytes: 27 * GIB },
    );
    expect(r.ok && r.sizes.sut.limits).toStrictEqual({ cpu_millis: 7200, memory_bytes: 27 * GIB });
  });

  it("keeps explicit SUT resources when they fit", () => {
    const explicit = { cpu_millis: 500, memory_bytes: 256 * MI };
    const r = sizeWorkloads({ cpu_millis: 4000, memory_bytes: 4 * GIB }, { replicas: 3, explicit });
    expect(r.ok && r.sizes.sut).toStrictEqual({ requests: explicit, limits: explicit });
  });

  it("refuses explicit SUT resources that do not fit", () => {
    expect(
      sizeWorkloads(
        { cpu_millis: 3000, memory_bytes: 4 * GIB },
        { replicas: 2, explicit: { cpu_millis: 1000, memory_bytes: GIB } },
      ),
    ).toStrictEqual({
      ok: false,
      problem:
        "2 SUT replica(s) of 1 CPU, 1Gi memory do not fit: the quota is 3 CPU, 4Gi memory and the orchestrator and iperf3 server take 2 CPU, 1280Mi memory",
    });
  });

  it("refuses a quota that leaves less than the minimum SUT", () => {
    const r = sizeWorkloads({ cpu_millis: 2100, memory_bytes: 2 * GIB }, { replicas: 1 });
    expect(r).toStrictEqual({
      ok: false,
      problem:
        "a quota of 2100m CPU, 2Gi memory leaves too little for the SUT: the orchestrator and iperf3 server take 2 CPU, 1280Mi memory and each SUT replica needs at least 200m CPU, 256Mi memory more",
    });
    expect(MIN_SUT_RESOURCES.cpu_millis).toBe(100);
  });
});
