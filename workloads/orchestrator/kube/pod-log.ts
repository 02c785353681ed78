import { request, type RequestOptions } from "node:https";
import type { KubeContext } from "./context.js";

export interface PodLogRead {
  /** Ends when the log does (follow: the container exited), the stream broke, or `abort` was called. */
  readonly done: Promise<{ readonly ok: boolean; readonly line: string }>;
  abort(): void;
}

/**
 * Reads a pod's log (`GET …/pods/<pod>/log?container=…&follow=…`, the `pods/log` the load Job Role
 * allows) with the kubeconfig's server, CA and credentials (`applyToHTTPSOptions`), passing the text
 * on as it arrives. Written here rather than with @kubernetes/client-node's `Log` because that helper
 * resolves once the headers arrive and pipes the body on without passing its errors, so a stream
 * that breaks mid-way is never seen to end; the load engine must know, to read the log again.
 * `done` says whether the log was read to its end, or why not (the API's status and message).
 */
export function readPodLog(
  kube: KubeContext,
  pod: string,
  container: string,
  follow: boolean,
  onText: (text: string) => void,
): PodLogRead {
  const controller = new AbortController();
  const done = (async () => {
    const cluster = kube.config.getCurrentCluster();
    if (!cluster) return { ok: false, line: "the kubeconfig has no current cluster" };
    const url = new URL(
      `/api/v1/namespaces/${encodeURIComponent(kube.namespace)}/pods/${encodeURIComponent(pod)}/log`,
      cluster.server,
    );
    url.searchParams.set("container", container);
    url.searchParams.set("follow", String(follow));
    const options: RequestOptions = { method: "GET", headers: {} };
    await kube.config.applyToHTTPSOptions(options);
    return new Promise<{ ok: boolean; line: string }>((resolve) => {
      const req = request(url, { ...options, signal: controller.signal }, (res) => {
        res.setEncoding("utf8");
        if (res.statusCode !== 200) {
          let body = "";
          res.on("data", (c: string) => {
            if (body.length < 4096) body += c;
          });
          res.on("end", () => {
            let message = body.slice(0, 300);
            try {
              message = (JSON.parse(body) as { message?: string }).message ?? message;
            } catch {
              // not a Status body
            }
            resolve({ ok: false, line: `${res.statusCode}: ${message}` });
          });
          res.on("error", (e) => resolve({ ok: false, line: `${res.statusCode}: ${e.message}` }));
          return;
        }
        res.on("data", (c: string) => onText(c));
        res.on("end", () => resolve({ ok: true, line: "ended" }));
        res.on("aborted", () => resolve({ ok: false, line: "the stream broke" }));
        res.on("error", (e) => resolve({ ok: false, line: `the stream broke: ${e.message}` }));
        // Closed without its end (whatever closed it): not read to the end.
        res.on("close", () => resolve({ ok: false, line: "the stream closed before its end" }));
      });
      req.on("error", (e) => resolve({ ok: false, line: e.message }));
      req.end();
    });
  })().catch((error: unknown) => ({ ok: false, line: (error as Error).message }));
  return { done, abort: () => controller.abort() };
}
