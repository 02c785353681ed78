import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import { connect, type AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateCustomResource } from "../../runners/infra/custom-resources.js";

/**
 * **Stand-in** for the Kubernetes API server, for the orchestrator's client calls (the README names
 * it as one): an HTTPS server on 127.0.0.1 (a self-signed certificate made by openssl for the run,
 * handed to clients as the cluster CA, as a kubeconfig or a pod's service account would) that answers create, get, list, delete and
 * delete-collection of namespaced objects — core (`/api/v1/...`) and grouped
 * (`/apis/<group>/<version>/...`), custom resources included — as the API server does: 201 with the
 * stored object (uid, resourceVersion, creationTimestamp), 409 AlreadyExists, 404 NotFound, 403
 * Forbidden against a Role-like rule list, 401 without the bearer token, 422 Invalid when a custom
 * resource fails its schema (validated for real with `validateCustomResource`, as a server with
 * strict field validation would), each with a `Status` body. Every request is recorded.
 *
 * No real API server ran: what this cannot tell is the real server's admission (PSA, quotas,
 * webhooks), controllers (a Job's pods, Chaos Mesh's daemon) and RBAC evaluation beyond the rules
 * given here.
 */

export interface KubeRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  /** Namespaces the rule applies in (a Role's own namespace); unset = every namespace. */
  readonly namespaces?: readonly string[];
}

export interface KubeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly verb: string;
  readonly group: string;
  readonly version: string;
  readonly resource: string;
  readonly namespace: string | null;
  readonly name: string | null;
  readonly body: unknown;
  readonly status: number;
}

export interface StoredObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    name: string;
    namespace: string;
    uid: string;
    resourceVersion: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    [k: string]: unknown;
  };
  readonly [k: string]: unknown;
}

export interface KubeApiOptions {
  /** The bearer token a caller must send. */
  readonly token: string;
  /** What the caller may do; unset = everything. */
  readonly rules?: readonly KubeRule[];
  /** Who the caller is, for 403 messages. @default "system:serviceaccount:default:orchestrator" */
  readonly user?: string;
  /** Validate custom resources against their schemas (422 when invalid). @default true */
  readonly validate?: boolean;
  /** Called after an object is stored (a test can start what a controller would, e.g. a Job's workers). */
  readonly onCreate?: (object: StoredObject, request: KubeRequest) => void;
  /** Called after an object is deleted (a Job's pods are then terminated, as its garbage collector would). */
  readonly onDelete?: (object: StoredObject, request: KubeRequest) => void;
  /**
   * Where `pods/<pod>/portforward` connects for a stored pod and port (the pod's "container"): a real
   * process on loopback. Unset, or undefined for a pod: the stream's error channel says the port
   * is closed, as the kubelet's does.
   */
  readonly portForward?: (
    namespace: string,
    pod: string,
    port: number,
  ) => { host: string; port: number } | undefined;
}

export interface KubeApiStandIn {
  readonly url: string;
  readonly requests: readonly KubeRequest[];
  /** Stored objects of a resource (`podchaos`, `jobs`), optionally of one namespace. */
  objects(resource: string, namespace?: string): StoredObject[];
  /** Make the next `count` requests matching `verb` and `resource` fail with `status` (500, 503, 409 …). */
  failNext(verb: string, resource: string, status: number, count?: number): void;
  /** Store an object as a controller would (a Deployment's pod with its status), without a request. */
  put(
    group: string,
    resource: string,
    object: {
      metadata: {
        name: string;
        namespace: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
      };
    } & Record<string, unknown>,
  ): void;
  /** Remove a stored object without a request (a pod the kubelet is done with). */
  remove(group: string, resource: string, namespace: string, name: string): void;
  /**
   * A pod's container log, as the kubelet keeps it: `appendLog` adds what the container wrote,
   * `endLog` says it exited. `GET …/pods/<pod>/log` answers with it (400 until the first append,
   * as for a container still starting), and with `follow=true` keeps the response open until then.
   */
  appendLog(namespace: string, pod: string, text: string): void;
  endLog(namespace: string, pod: string): void;
  /** Break every open log stream of a pod mid-way (the connection dropped), without ending its log. */
  breakLogStreams(namespace: string, pod: string): void;
  /** Port-forward streams opened so far (`namespace/pod:port`). */
  readonly portForwards: readonly string[];
  /** Patch a stored object's status (what a controller would report). */
  setStatus(resource: string, namespace: string, name: string, status: unknown): void;
  /** The server's certificate (PEM), which is its own CA: what a pod's `ca.crt` would hold. */
  readonly caCertificate: string;
  /** A kubeconfig (YAML) for @kubernetes/client-node's `loadFromString` (server, CA, token, namespace). */
  kubeconfig(namespace?: string): string;
  close(): Promise<void>;
}

/** Kind from a plural resource name, as the discovery document would give it (for lists and 4xx details). */
function kindOf(resource: string, body: unknown): string {
  const k = (body as { kind?: string } | null)?.kind;
  if (typeof k === "string") return k;
  return resource;
}

function statusBody(code: number, reason: string, message: string, details: Record<string, unknown> = {}) {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: code < 400 ? "Success" : "Failure",
    message,
    reason,
    details,
    code,
  };
}

/** `a=b,c!=d,e` (equality, inequality, existence): what the orchestrator's sweeps send. */
function matchesSelector(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  const l = labels ?? {};
  return selector.split(",").every((term) => {
    const t = term.trim();
    if (t === "") return true;
    const ne = t.split("!=");
    if (ne.length === 2) return l[ne[0]!.trim()] !== ne[1]!.trim();
    const eq = t.split(/==?/);
    if (eq.length === 2) return l[eq[0]!.trim()] === eq[1]!.trim();
    if (t.startsWith("!")) return !(t.slice(1) in l);
    return t in l;
  });
}

interface Parsed {
  group: string;
  version: string;
  resource: string;
  namespace: string | null;
  name: string | null;
}

function parsePath(path: string): Parsed | null {
  const parts = path.split("/").filter(Boolean);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === "api" && parts.length >= 2) {
    group = "";
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === "apis" && parts.length >= 3) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else return null;
  let namespace: string | null = null;
  if (rest[0] === "namespaces" && rest.length >= 3) {
    namespace = decodeURIComponent(rest[1]!);
    rest = rest.slice(2);
  }
  if (rest.length < 1 || rest.length > 3) return null;
  return {
    group,
    version,
    // A subresource (`pods/<name>/log`) is its own resource for RBAC: `pods/log`.
    resource: rest[2] !== undefined ? `${rest[0]}/${rest[2]}` : rest[0]!,
    namespace,
    name: rest[1] !== undefined ? decodeURIComponent(rest[1]) : null,
  };
}

function verbOf(method: string, p: Parsed, query: Record<string, string>): string {
  if (method === "POST") return "create";
  if (method === "DELETE") return p.name === null ? "deletecollection" : "delete";
  if (method === "PATCH") return "patch";
  if (method === "PUT") return "update";
  if (query.watch === "true" || query.watch === "1") return "watch";
  return p.name === null ? "list" : "get";
}

function allowed(rules: readonly KubeRule[] | undefined, verb: string, p: Parsed): boolean {
  if (!rules) return true;
  return rules.some(
    (r) =>
      (r.apiGroups.includes(p.group) || r.apiGroups.includes("*")) &&
      (r.resources.includes(p.resource) || r.resources.includes("*")) &&
      (r.verbs.includes(verb) || r.verbs.includes("*")) &&
      (r.namespaces === undefined || (p.namespace !== null && r.namespaces.includes(p.namespace))),
  );
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return undefined;
  return JSON.parse(text);
}

/** A key and self-signed certificate for 127.0.0.1, made by openssl in a scratch directory. */
function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "tiers-kube-api-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=kube-apiserver-stand-in",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    return {
      key: readFileSync(join(dir, "key.pem"), "utf8"),
      cert: readFileSync(join(dir, "cert.pem"), "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const PORT_FORWARD_PROTOCOL = "v4.channel.k8s.io";

/**
 * One port-forward stream as the kubelet serves it over `v4.channel.k8s.io`: binary frames whose
 * first byte is the channel (0 data, 1 error for the one port), each channel opened by a frame
 * holding the port (uint16, little endian); the data channel carries the TCP stream to the pod's
 * port both ways, the error channel a message when that connection fails.
 */
function bridgePortForward(
  ws: WebSocket,
  port: number,
  target: { host: string; port: number } | undefined,
): void {
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16LE(port);
  ws.send(Buffer.concat([Buffer.from([0]), portBytes]));
  ws.send(Buffer.concat([Buffer.from([1]), portBytes]));
  const failStream = (message: string) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(message)]));
    ws.close();
  };
  if (!target) return failStream(`error forwarding port ${port}: connection refused`);
  const tcp = connect(target.port, target.host);
  tcp.on("data", (chunk: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([0]), chunk]));
  });
  tcp.on("error", (error) => failStream(`error forwarding port ${port} to pod: ${error.message}`));
  tcp.on("close", () => ws.close());
  ws.on("message", (data: Buffer) => {
    if (data[0] === 0 && data.length > 1) tcp.write(data.subarray(1));
  });
  ws.on("close", () => tcp.destroy());
}

/** Starts the stand-in on a free 127.0.0.1 port. */
export async function startKubeApi(options: KubeApiOptions): Promise<KubeApiStandIn> {
  const store = new Map<string, StoredObject>();
  const requests: KubeRequest[] = [];
  const failures: { verb: string; resource: string; status: number; count: number }[] = [];
  let revision = 1000;
  const user = options.user ?? "system:serviceaccount:default:orchestrator";
  const keyOf = (p: Parsed, ns: string, name: string) => `${p.group}/${p.resource}/${ns}/${name}`;
  const scope = (p: Parsed) => `${p.group}/${p.resource}/`;
  const podLogs = new Map<string, { text: string; ended: boolean; followers: Set<ServerResponse> }>();
  const podLog = (ns: string, pod: string) => {
    const key = `${ns}/${pod}`;
    let l = podLogs.get(key);
    if (!l) {
      l = { text: "", ended: false, followers: new Set() };
      podLogs.set(key, l);
    }
    return l;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const query = Object.fromEntries(url.searchParams);
    const send = (status: number, body: unknown, record?: Omit<KubeRequest, "status">) => {
      if (record) requests.push({ ...record, status });
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const p = parsePath(url.pathname);
    let body: unknown;
    try {
      body = await readBody(req);
    } catch {
      send(400, statusBody(400, "BadRequest", "the request body is not JSON"));
      return;
    }
    if (!p) {
      send(404, statusBody(404, "NotFound", `the server could not find the requested resource`));
      return;
    }
    const verb = verbOf(req.method ?? "GET", p, query);
    const record = {
      method: req.method ?? "GET",
      path: url.pathname,
      query,
      verb,
      ...p,
      body,
    };
    const gr = p.group ? `${p.resource}.${p.group}` : p.resource;
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      send(401, statusBody(401, "Unauthorized", "Unauthorized"), record);
      return;
    }
    if (!allowed(options.rules, verb, p)) {
      send(
        403,
        statusBody(
          403,
          "Forbidden",
          `${gr}${p.name ? ` "${p.name}"` : ""} is forbidden: User "${user}" cannot ${verb} resource "${p.resource}" in API group "${p.group}"${p.namespace ? ` in the namespace "${p.namespace}"` : " at the cluster scope"}`,
          { ...(p.name ? { name: p.name } : {}), group: p.group, kind: p.resource },
        ),
        record,
      );
      return;
    }
    const injected = failures.find((f) => f.verb === verb && f.resource === p.resource && f.count > 0);
    if (injected) {
      injected.count -= 1;
      const reason =
        injected.status === 409 ? "Conflict" : injected.status >= 500 ? "InternalError" : "BadRequest";
      send(
        injected.status,
        statusBody(injected.status, reason, `injected failure for ${verb} ${gr}`),
        record,
      );
      return;
    }
    const ns = p.namespace ?? "";
    if (p.resource === "pods/log" && verb === "get") {
      if (!store.has(`/pods/${ns}/${p.name}`)) {
        send(404, statusBody(404, "NotFound", `pods "${p.name}" not found`), record);
        return;
      }
      const l = podLogs.get(`${ns}/${p.name}`);
      if (!l) {
        send(
          400,
          statusBody(
            400,
            "BadRequest",
            `container "${query.container ?? ""}" in pod "${p.name}" is waiting to start: ContainerCreating`,
          ),
          record,
        );
        return;
      }
      requests.push({ ...record, status: 200 });
      res.writeHead(200, { "content-type": "text/plain" });
      res.write(l.text);
      if (l.ended || query.follow !== "true") {
        res.end();
        return;
      }
      l.followers.add(res);
      res.on("close", () => l.followers.delete(res));
      return;
    }
    switch (verb) {
      case "create": {
        const obj = body as
          | {
              apiVersion?: string;
              kind?: string;
              metadata?: { name?: string; generateName?: string; namespace?: string };
            }
          | undefined;
        if (!obj?.metadata) {
          send(400, statusBody(400, "BadRequest", "metadata is required"), record);
          return;
        }
        const name =
          obj.metadata.name ??
          (obj.metadata.generateName ? `${obj.metadata.generateName}${randomUUID().slice(0, 5)}` : undefined);
        if (!name) {
          send(
            422,
            statusBody(
              422,
              "Invalid",
              `${kindOf(p.resource, obj)} is invalid: metadata.name: Required value`,
            ),
            record,
          );
          return;
        }
        if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== ns) {
          send(
            400,
            statusBody(
              400,
              "BadRequest",
              `the namespace of the provided object does not match the namespace sent on the request`,
            ),
            record,
          );
          return;
        }
        if (
          p.group &&
          (options.validate ?? true) &&
          obj.apiVersion &&
          obj.kind &&
          !p.group.endsWith("k8s.io") &&
          p.group !== "batch" &&
          p.group !== "apps"
        ) {
          const check = await validateCustomResource(obj as never);
          if (check.problems.length > 0) {
            send(
              422,
              statusBody(
                422,
                "Invalid",
                `${obj.kind}.${p.group} "${name}" is invalid: ${check.problems.join("; ")}`,
                {
                  name,
                  group: p.group,
                  kind: obj.kind,
                  causes: check.problems.map((m) => ({ reason: "FieldValueInvalid", message: m })),
                },
              ),
              record,
            );
            return;
          }
        }
        const key = keyOf(p, ns, name);
        if (store.has(key)) {
          send(
            409,
            statusBody(409, "AlreadyExists", `${gr} "${name}" already exists`, {
              name,
              group: p.group,
              kind: p.resource,
            }),
            record,
          );
          return;
        }
        revision += 1;
        const stored = {
          ...(obj as object),
          metadata: {
            ...obj.metadata,
            name,
            namespace: ns,
            uid: randomUUID(),
            resourceVersion: String(revision),
            creationTimestamp: new Date().toISOString(),
          },
        } as StoredObject;
        store.set(key, stored);
        send(201, stored, record);
        options.onCreate?.(stored, { ...record, status: 201 });
        return;
      }
      case "get": {
        const found = store.get(keyOf(p, ns, p.name!));
        if (!found) {
          send(
            404,
            statusBody(404, "NotFound", `${gr} "${p.name}" not found`, {
              name: p.name,
              group: p.group,
              kind: p.resource,
            }),
            record,
          );
          return;
        }
        send(200, found, record);
        return;
      }
      case "list": {
        const items = [...store.entries()]
          .filter(([k, o]) => k.startsWith(scope(p)) && (p.namespace === null || o.metadata.namespace === ns))
          .map(([, o]) => o)
          .filter((o) => matchesSelector(o.metadata.labels, query.labelSelector));
        const kind = items[0]?.kind ?? p.resource;
        send(
          200,
          {
            apiVersion: p.group ? `${p.group}/${p.version}` : p.version,
            kind: `${kind}List`,
            metadata: { resourceVersion: String(revision) },
            items,
          },
          record,
        );
        return;
      }
      case "delete": {
        const key = keyOf(p, ns, p.name!);
        const found = store.get(key);
        if (!found) {
          send(
            404,
            statusBody(404, "NotFound", `${gr} "${p.name}" not found`, {
              name: p.name,
              group: p.group,
              kind: p.resource,
            }),
            record,
          );
          return;
        }
        store.delete(key);
        options.onDelete?.(found, { ...record, status: 200 });
        send(
          200,
          statusBody(200, "", "", {
            name: p.name,
            group: p.group,
            kind: p.resource,
            uid: found.metadata.uid,
          }),
          record,
        );
        return;
      }
      case "deletecollection": {
        for (const [k, o] of [...store.entries()]) {
          if (
            k.startsWith(scope(p)) &&
            o.metadata.namespace === ns &&
            matchesSelector(o.metadata.labels, query.labelSelector)
          )
            store.delete(k);
        }
        send(200, statusBody(200, "", ""), record);
        return;
      }
      default:
        send(405, statusBody(405, "MethodNotAllowed", `${verb} is not supported by this stand-in`), record);
    }
  };

  const { key, cert } = selfSignedCertificate();
  const server: Server = createServer({ key, cert }, (req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify(statusBody(500, "InternalError", (error as Error).message)));
    });
  });
  const portForwards: string[] = [];
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(PORT_FORWARD_PROTOCOL) ? PORT_FORWARD_PROTOCOL : false),
  });
  server.on("upgrade", (req: IncomingMessage, socket, head) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/.exec(url.pathname);
    const refuse = (code: number, reason: string, message: string) => {
      const body = JSON.stringify(statusBody(code, reason, message));
      socket.end(
        `HTTP/1.1 ${code} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    };
    const port = Number(url.searchParams.get("ports"));
    const record = {
      method: "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      verb: "create",
      group: "",
      version: "v1",
      resource: "pods/portforward",
      namespace: m ? decodeURIComponent(m[1]!) : null,
      name: m ? decodeURIComponent(m[2]!) : null,
      body: undefined,
    };
    if (!m || !Number.isInteger(port) || port < 1 || port > 65535) {
      requests.push({ ...record, status: 400 });
      return refuse(
        400,
        "BadRequest",
        "expected /api/v1/namespaces/<ns>/pods/<pod>/portforward?ports=<port>",
      );
    }
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      requests.push({ ...record, status: 401 });
      return refuse(401, "Unauthorized", "Unauthorized");
    }
    const p: Parsed = {
      group: "",
      version: "v1",
      resource: "pods/portforward",
      namespace: record.namespace,
      name: record.name,
    };
    if (!allowed(options.rules, "create", p)) {
      requests.push({ ...record, status: 403 });
      return refuse(
        403,
        "Forbidden",
        `pods "${record.name}" is forbidden: User "${user}" cannot create resource "pods/portforward" in API group "" in the namespace "${record.namespace}"`,
      );
    }
    if (!store.has(`/pods/${record.namespace}/${record.name}`)) {
      requests.push({ ...record, status: 404 });
      return refuse(404, "NotFound", `pods "${record.name}" not found`);
    }
    requests.push({ ...record, status: 101 });
    portForwards.push(`${record.namespace}/${record.name}:${port}`);
    wss.handleUpgrade(req, socket, head, (ws) =>
      bridgePortForward(ws, port, options.portForward?.(record.namespace!, record.name!, port)),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}`;
  const caData = Buffer.from(cert).toString("base64");

  return {
    url,
    caCertificate: cert,
    requests,
    objects: (resource, namespace) =>
      [...store.entries()]
        .filter(
          ([k, o]) =>
            k.split("/")[1] === resource && (namespace === undefined || o.metadata.namespace === namespace),
        )
        .map(([, o]) => o),
    failNext: (verb, resource, status, count = 1) => failures.push({ verb, resource, status, count }),
    portForwards,
    put: (group, resource, object) => {
      revision += 1;
      store.set(`${group}/${resource}/${object.metadata.namespace}/${object.metadata.name}`, {
        ...object,
        metadata: {
          uid: randomUUID(),
          resourceVersion: String(revision),
          creationTimestamp: new Date().toISOString(),
          ...object.metadata,
        },
      } as unknown as StoredObject);
    },
    appendLog: (namespace, pod, text) => {
      const l = podLog(namespace, pod);
      if (l.ended) return;
      l.text += text;
      for (const f of l.followers) f.write(text);
    },
    endLog: (namespace, pod) => {
      const l = podLog(namespace, pod);
      l.ended = true;
      for (const f of l.followers) f.end();
      l.followers.clear();
    },
    breakLogStreams: (namespace, pod) => {
      const l = podLogs.get(`${namespace}/${pod}`);
      for (const f of l?.followers ?? []) f.destroy();
      l?.followers.clear();
    },
    remove: (group, resource, namespace, name) => {
      store.delete(`${group}/${resource}/${namespace}/${name}`);
    },
    setStatus: (resource, namespace, name, status) => {
      for (const [k, o] of store) {
        if (k.split("/")[1] === resource && o.metadata.namespace === namespace && o.metadata.name === name)
          store.set(k, { ...o, status });
      }
    },
    kubeconfig: (namespace = "default") =>
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        `- name: stand-in`,
        `  cluster: {server: "${url}", certificate-authority-data: ${caData}}`,
        "users:",
        `- name: orchestrator`,
        `  user: {token: "${options.token}"}`,
        "contexts:",
        `- name: stand-in`,
        `  context: {cluster: stand-in, user: orchestrator, namespace: ${namespace}}`,
        "current-context: stand-in",
        "",
      ].join("\n"),
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
