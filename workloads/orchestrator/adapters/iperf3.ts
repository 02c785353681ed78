import type { ResultUnit } from "../../../tiers/schema/contract.js";
import type { AdapterConfig, Params, ParseOutcome, ProcessAdapter, RawOutput } from "./adapter.js";
import { startIperf3Server } from "./iperf3-server.js";
import { getPath, isRecord, numberAt, parseJson, putNumbers, type Metrics } from "./output.js";
import { param, scalarText } from "./params.js";

/**
 * iperf3 (IperfContract, seed 000): TCP or UDP, parallel streams, reverse. Runs the client with
 * `-J`; the server is the test's `server`/`port`, the environment's, or one started for the test on
 * 127.0.0.1 and stopped in cleanup. iperf3 can exit 0 and still report `"error"` in its JSON
 * (3.12 does so for a refused connection): that is a failed run.
 */

const UNITS: Record<string, ResultUnit> = {
  bandwidth: "bits/sec",
  bandwidth_sent: "bits/sec",
  latency: "ms",
  jitter: "ms",
  retransmits: "count",
  lost_percent: "percent",
  lost_packets: "count",
  packets: "count",
  cpu_utilization_percent: "percent",
  cpu_utilization_remote_percent: "percent",
};

/** Mean TCP round-trip time over the streams this side sent on, in ms (iperf3 reports µs). */
function meanRttMs(report: unknown): number | undefined {
  const streams = getPath(report, "end.streams");
  if (!Array.isArray(streams) || streams.length === 0) return undefined;
  const rtts: number[] = [];
  for (const s of streams as unknown[]) {
    if (getPath(s, "sender.sender") !== true) return undefined;
    const rtt = numberAt(s, "sender.mean_rtt");
    if (rtt === undefined) return undefined;
    rtts.push(rtt);
  }
  return rtts.reduce((a, b) => a + b, 0) / rtts.length / 1000;
}

export function parseIperf3(raw: RawOutput, params: Params): ParseOutcome {
  const read = parseJson(raw.stdout);
  if (!read.ok) return read;
  const report = read.value;
  if (!isRecord(report)) return { ok: false, problem: "output is not a JSON object" };
  const error =
    report.error === undefined || report.error === null
      ? ""
      : (scalarText(report.error) ?? JSON.stringify(report.error));
  const toolError = error.trim() !== "" ? `iperf3 reported an error: ${error.slice(0, 300)}` : undefined;
  const udp =
    params.protocol === "udp" ||
    getPath(report, "start.test_start.protocol") === "UDP" ||
    isRecord(getPath(report, "end.sum"));
  const metrics: Metrics = {};
  if (udp) {
    putNumbers(metrics, {
      bandwidth:
        numberAt(report, "end.sum_received.bits_per_second") ?? numberAt(report, "end.sum.bits_per_second"),
      bandwidth_sent:
        numberAt(report, "end.sum_sent.bits_per_second") ?? numberAt(report, "end.sum.bits_per_second"),
      jitter: numberAt(report, "end.sum_received.jitter_ms") ?? numberAt(report, "end.sum.jitter_ms"),
      lost_percent:
        numberAt(report, "end.sum_received.lost_percent") ?? numberAt(report, "end.sum.lost_percent"),
      lost_packets:
        numberAt(report, "end.sum_received.lost_packets") ?? numberAt(report, "end.sum.lost_packets"),
      packets: numberAt(report, "end.sum_received.packets") ?? numberAt(report, "end.sum.packets"),
    });
  } else {
    putNumbers(metrics, {
      bandwidth: numberAt(report, "end.sum_received.bits_per_second"),
      bandwidth_sent: numberAt(report, "end.sum_sent.bits_per_second"),
      retransmits: numberAt(report, "end.sum_sent.retransmits"),
      latency: meanRttMs(report),
    });
  }
  putNumbers(metrics, {
    cpu_utilization_percent: numberAt(report, "end.cpu_utilization_percent.host_total"),
    cpu_utilization_remote_percent: numberAt(report, "end.cpu_utilization_percent.remote_total"),
  });
  if (toolError) return { ok: true, metrics, toolError };
  if (!isRecord(report.end)) return { ok: false, problem: "output has no end section" };
  if (metrics.bandwidth === undefined)
    return { ok: false, problem: `output has no ${udp ? "end.sum" : "end.sum_received"}.bits_per_second` };
  return { ok: true, metrics };
}

export function createIperf3Adapter(config: AdapterConfig): ProcessAdapter {
  const binary = config.binary ?? "iperf3";
  return {
    kind: "process",
    tool: "iperf3",
    units: UNITS,
    executable: () => binary,
    versionArgs: ["--version"],
    parseVersion: (out) => /^iperf (\d+(?:\.\d+)+\S*)/m.exec(out)?.[1] ?? null,
    checkParameters(params) {
      return params.port !== undefined && params.server === undefined
        ? ["port: given without server (the port of the environment's own server is known)"]
        : [];
    },
    async prepare(params, ctx, executablePath) {
      let host: string;
      let port: number;
      let cleanup = async (): Promise<void> => {};
      if (typeof params.server === "string") {
        host = params.server;
        port = typeof params.port === "number" ? params.port : 5201;
      } else if (ctx.iperf3Server) {
        ({ host, port } = ctx.iperf3Server);
      } else {
        const server = await startIperf3Server({ binary: executablePath });
        ({ host, port } = server);
        cleanup = () => server.stop();
      }
      const args = ["-c", host, "-p", String(port), "-J", "--connect-timeout", "5000"];
      args.push("-t", param(params, "duration", 10), "-P", param(params, "parallel_streams", 1));
      if (params.protocol === "udp") args.push("-u");
      if (params.reverse === true) args.push("-R");
      if (typeof params.bandwidth === "string") args.push("-b", params.bandwidth);
      return { invocation: { file: executablePath, args }, cleanup };
    },
    parse: parseIperf3,
  };
}
