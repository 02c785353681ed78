import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmod, chown, mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import type { ReachedEnvironment, RunTarget, TargetContext } from "../../cycle/target.js";
import { describeTlsFailure, OrchestratorClient } from "../../cycle/orchestrator-client.js";
import { captureStack } from "../../infra/capture.js";
import type { CapturedGraph } from "../../infra/graph.js";
import {
  ORCHESTRATOR_TLS_SECRET,
  orchestratorServerName,
} from "../../../components/environment/orchestrator-certificate.js";
import { createRunCa, type RunCa } from "../run-ca.js";
import { listByLabel, podman, podmanQuiet } from "./podman.js";
import {
  containerOf,
  environmentsFromCapture,
  globalName,
  matches,
  mountedSecrets,
  podSpecOf,
  renderClaim,
  renderConfigMap,
  renderDeployment,
  renderSecret,
  secretVolumeName,
  toYaml,
  type CapturedEnvironment,
  type SecretValues,
} from "./pods.js";

type Obj = Record<string, unknown>;

export interface ContainerTargetOptions {
  /** Keep the rendered YAML under `<run>/containers` (the pods are always removed). */
  readonly keep: boolean;
  /** The stack whose program registers the environments. @default "local" */
  readonly stack?: string;
}

/** A pod podman started: its id, name, labels, IP on the environment's network, containers. */
interface StartedPod {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly ip: string;
  readonly containers: readonly { id: string; name: string }[];
}

/** What podman still has of a run, by kind (all empty after a good teardown). */
export interface Leftovers {
  readonly pods: string[];
  readonly containers: string[];
  readonly volumes: string[];
  readonly secrets: string[];
  readonly networks: string[];
}

/** One environment as it runs under podman, for the start-up line and the tests. */
export interface ContainerEnvironment {
  readonly id: string;
  readonly prefix: string;
  readonly network: string;
  readonly pods: readonly StartedPod[];
  /** The Deployments as played (names prefixed, host aliases added). */
  readonly played: readonly Obj[];
}

const READY_TIMEOUT_MS = 120_000;

/** Pod ids in `podman kube play` output (the lines under "Pod:"). */
function podIds(out: string): string[] {
  const ids: string[] = [];
  let inPods = false;
  for (const line of out.split("\n").map((l) => l.trim())) {
    if (/^Pods?:$/.test(line)) inPods = true;
    else if (/^[A-Z][a-z]+s?:$/.test(line)) inPods = false;
    else if (inPods && /^[0-9a-f]{64}$/.test(line)) ids.push(line);
  }
  return ids;
}

async function inspectPod(id: string): Promise<StartedPod> {
  const [pod] = JSON.parse(
    await podman(["pod", "inspect", id], { what: "inspecting a pod" }).then((s) =>
      s.trim().startsWith("[") ? s : `[${s}]`,
    ),
  ) as {
    Name: string;
    Labels?: Record<string, string>;
    InfraContainerID: string;
    Containers: { Id: string; Name: string }[];
  }[];
  const nets = JSON.parse(
    await podman(["inspect", "--format", "{{json .NetworkSettings.Networks}}", pod!.InfraContainerID]),
  ) as Record<string, { IPAddress: string }>;
  const ip = Object.values(nets)[0]?.IPAddress ?? "";
  return {
    name: pod!.Name,
    labels: pod!.Labels ?? {},
    ip,
    containers: pod!.Containers.filter((c) => c.Id !== pod!.InfraContainerID).map((c) => ({
      id: c.Id,
      name: c.Name,
    })),
  };
}

/** The real values of the environment's Secrets, by what the orchestrator's pod does with them. */
async function secretValues(
  env: CapturedEnvironment,
  ca: RunCa,
): Promise<{ values: SecretValues; token: string; servername: string }> {
  const orchestrator = env.deployments.orchestrator!;
  const c = containerOf(orchestrator);
  const envVars = (c.env ?? []) as {
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string } };
  }[];
  const tokenRef = envVars.find((e) => e.name === "TIERS_API_TOKEN")?.valueFrom?.secretKeyRef;
  const keyFile = envVars.find((e) => e.name === "TIERS_SIGNING_KEY_FILE")?.value;
  const mounts = (c.volumeMounts ?? []) as { name: string; mountPath: string }[];
  const keyMount = keyFile ? mounts.find((m) => m.mountPath === dirname(keyFile)) : undefined;
  const keyVolume = (
    (podSpecOf(orchestrator).volumes ?? []) as { name: string; secret?: { secretName: string } }[]
  ).find((v) => v.name === keyMount?.name);
  if (!tokenRef || !keyVolume?.secret)
    throw new TiersError(
      ExitCode.Internal,
      `environment ${env.id}: the orchestrator Deployment takes no token Secret or no signing-key Secret volume`,
    );
  const token = randomBytes(32).toString("base64url");
  const pair = generateKeyPairSync("ed25519");
  // cert-manager's part, which podman has not: the Certificate the program registers for the
  // orchestrator, issued by the run's CA into the Secret the pod mounts, for the same DNS names.
  const certificate = env.certificates.find((c) => c.secretName === ORCHESTRATOR_TLS_SECRET);
  if (!certificate)
    throw new TiersError(
      ExitCode.Internal,
      `environment ${env.id}: the program registers no Certificate for the orchestrator's Secret ${ORCHESTRATOR_TLS_SECRET}`,
    );
  const issued = await ca.issueServer(`orchestrator ${env.id}`, certificate.dnsNames);
  return {
    token,
    servername: orchestratorServerName(env.namespace),
    values: {
      [ORCHESTRATOR_TLS_SECRET]: { "tls.crt": issued.cert, "tls.key": issued.key },
      [tokenRef.name]: { [tokenRef.key]: token },
      [keyVolume.secret.secretName]: {
        "private.pem": pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        "public.pem": pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
      },
    },
  };
}

/**
 * The local target with containers (`tiers local --runtime containers`): each isolated environment
 * runs as the pods the Pulumi program registers for it in the `local` stack — captured offline
 * under Pulumi's mock runtime, rendered as YAML and started with `podman kube play` on a network of
 * the environment's own. Podman runs Deployments, PVCs, ConfigMaps and Secrets; it does not run
 * Services (the runner turns them into host aliases to the pods' IPs) nor enforce NetworkPolicy,
 * ResourceQuota or Pod Security admission. Teardown removes every pod, container, volume, secret
 * and network of the run, and checks that none remains.
 */
export class LocalContainerTarget implements RunTarget {
  readonly name = "local containers (podman)";
  /** Every podman name of the run starts with `tiers-<run>-`. */
  readonly run = randomBytes(3).toString("hex");
  /** What was captured and what runs, once provisioned (the tests compare them). */
  graph: CapturedGraph | undefined;
  readonly environments: ContainerEnvironment[] = [];
  private readonly plays: string[] = [];
  /** Named volumes of the run: claims, Secret files, ConfigMaps (emptyDirs go with their pods). */
  private readonly volumes: string[] = [];
  private readonly secrets: string[] = [];
  private readonly networks: string[] = [];
  private readonly waiters: ResultPromise[] = [];
  private dir: string | undefined;
  /** The run's CA: it issues each orchestrator's certificate, as cert-manager does on a cluster. */
  private ca: RunCa | undefined;
  private logDir: string | undefined;

  constructor(private readonly options: ContainerTargetOptions) {}

  get prefix(): string {
    return `tiers-${this.run}-`;
  }

  async provision(context: TargetContext): Promise<readonly ReachedEnvironment[]> {
    const { plan, say, signal } = context;
    this.dir = join(context.runDir, "containers");
    this.logDir = join(context.runDir, "logs");
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await mkdir(this.logDir, { recursive: true });
    const stack = this.options.stack ?? "local";
    say(
      `capturing the Pulumi program of stack ${stack} offline (mock runtime): tier ${plan.tier.name}, ${plan.environments.length} environments`,
    );
    const graph = await captureStack(stack, {
      overrides: { "test-tiers:tier": plan.tier.name, "test-tiers:environments": plan.environments.length },
    });
    this.graph = graph;
    if (!graph.ok)
      throw new TiersError(
        ExitCode.InvalidConfig,
        `the program of stack ${stack} failed under the mock runtime: ${graph.error?.message ?? "no reason given"}`,
      );
    if (signal.aborted) throw new TiersError(ExitCode.Interrupted, "interrupted before the pods started");
    const captured = environmentsFromCapture(graph);
    this.ca = await createRunCa(`tiers local run ${context.cycleId}`);
    const ids = captured.map((e) => e.id).sort();
    const want = plan.environments.map((e) => e.id).sort();
    if (JSON.stringify(ids) !== JSON.stringify(want))
      throw new TiersError(
        ExitCode.InvalidConfig,
        `stack ${stack} registers environments ${ids.join(", ")} but the plan has ${want.join(", ")}`,
      );
    const started = await Promise.allSettled(captured.map((e) => this.startEnvironment(e, context)));
    const failed = started.filter((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed.length > 0) {
      const errors = failed.map((f) => f.reason as Error);
      const first = errors.find((e): e is TiersError => e instanceof TiersError);
      throw new TiersError(
        first?.exitCode ?? ExitCode.Infrastructure,
        `${failed.length} of ${captured.length} environments did not start under podman`,
        { details: errors.map((e) => e.message) },
      );
    }
    return started.map((s) => (s as PromiseFulfilledResult<ReachedEnvironment>).value);
  }

  private async startEnvironment(
    env: CapturedEnvironment,
    context: TargetContext,
  ): Promise<ReachedEnvironment> {
    const { signal } = context;
    const prefix = `${this.prefix}${env.id}`;
    const labels = { "test-tiers/run": this.run, "test-tiers/environment": env.id };
    const render = { prefix, labels };
    const network = prefix;
    this.networks.push(network);
    await podman(["network", "create", "--label", `test-tiers/run=${this.run}`, network], {
      signal,
      what: `creating network ${network}`,
    });

    const { values, token, servername } = await secretValues(env, this.ca!);
    for (const secret of env.secrets) {
      const { name, json } = renderSecret(secret, values, render);
      this.secrets.push(name);
      // Through podman's environment (`--env`): the values never touch the disk here. (Not stdin:
      // podman wants a FIFO there, and Node gives its children sockets.)
      await podman(
        ["secret", "create", "--env", "--label", `test-tiers/run=${this.run}`, name, "TIERS_SECRET_VALUE"],
        {
          env: { TIERS_SECRET_VALUE: json },
          signal,
          what: `creating secret ${name}`,
        },
      );
    }
    // Secret volumes: a named volume holding the files, owned by the pod's user, mode 0400.
    const uid = Number(
      (podSpecOf(env.deployments.orchestrator!).securityContext as Obj | undefined)?.runAsUser ?? 10001,
    );
    const mounted = new Set(Object.values(env.deployments).flatMap(mountedSecrets));
    for (const secretName of mounted) {
      const volume = secretVolumeName(prefix, secretName);
      this.volumes.push(volume);
      await podman(["volume", "create", "--label", `test-tiers/run=${this.run}`, volume], {
        signal,
        what: `creating volume ${volume}`,
      });
      const dir = (await podman(["volume", "inspect", "--format", "{{.Mountpoint}}", volume])).trim();
      for (const [file, value] of Object.entries(values[secretName] ?? {})) {
        await writeFile(join(dir, file), value, { mode: 0o400 });
        await chown(join(dir, file), uid, uid);
      }
      await chown(dir, uid, uid);
      await chmod(dir, 0o500);
    }
    const configMapArgs: string[] = [];
    for (const cm of env.configMaps) {
      const { name, yaml } = renderConfigMap(cm, render);
      this.volumes.push(name); // podman keeps a ConfigMap volume as a named volume
      const file = join(this.dir!, `${name}.configmap.yaml`);
      await writeFile(file, yaml);
      configMapArgs.push("--configmap", file);
    }

    const play = async (file: string, docs: readonly Obj[], what: string): Promise<StartedPod[]> => {
      await writeFile(file, toYaml(docs));
      this.plays.push(file);
      const out = await podman(
        ["kube", "play", "--network", network, ...configMapArgs, "--log-driver", "k8s-file", file],
        { signal, what },
      );
      return Promise.all(podIds(out).map(inspectPod));
    };

    // The pods behind the Services first, then the orchestrator with those Services as host names.
    const backends = Object.entries(env.deployments)
      .filter(([name]) => name !== "orchestrator")
      .map(([, d]) => renderDeployment(d, render));
    const backendPods = await play(
      join(this.dir!, `${prefix}-backends.yaml`),
      backends,
      `starting ${env.id}'s SUT and iperf3 pods`,
    );
    const hosts: Record<string, string> = {};
    for (const [service, selector] of Object.entries(env.services)) {
      const pod = backendPods.find((p) => matches(p.labels, selector));
      if (pod) hosts[service] = pod.ip;
    }
    for (const c of env.claims) this.volumes.push(globalName(prefix, String((c.metadata as Obj).name)));
    const orchestrator = renderDeployment(env.deployments.orchestrator!, { ...render, hosts });
    const [orchPod] = await play(
      join(this.dir!, `${prefix}-orchestrator.yaml`),
      [...env.claims.map((c) => renderClaim(c, render)), orchestrator],
      `starting ${env.id}'s orchestrator pod`,
    );
    if (!orchPod)
      throw new TiersError(ExitCode.Infrastructure, `${env.id}: podman started no orchestrator pod`);
    const pods = [...backendPods, orchPod];
    this.environments.push({ id: env.id, prefix, network, pods, played: [...backends, orchestrator] });

    const port =
      ((containerOf(env.deployments.orchestrator!).ports ?? []) as { containerPort: number }[])[0]
        ?.containerPort ?? 8080;
    const url = `https://${orchPod.ip}:${port}`;
    const tls = { ca: this.ca!.cert, servername };
    const container = orchPod.containers[0]!;
    const waiter = execa("podman", ["wait", container.id], { reject: false });
    this.waiters.push(waiter);
    const lost = waiter.then(async (r) => {
      const logs = await podmanQuiet(["logs", "--tail", "3", container.id]);
      return `orchestrator container ${container.name} exited (${r.stdout.trim() || `podman wait ${String(r.exitCode)}`})${logs.ok ? `: ${logs.out.split("\n").join(" | ")}` : ""}`;
    });
    const client = new OrchestratorClient(url, token, { tls });
    await this.waitReady(client, servername, container.name, signal);
    const { keyring_line } = await client.publicKey();
    const plan = context.plan.environments.find((p) => p.id === env.id)!;
    return {
      id: env.id,
      region: plan.region,
      client,
      lost,
      keyringLine: keyring_line,
      description: `${env.id}: pods ${pods.map((p) => p.name).join(", ")} on network ${network}, orchestrator ${url}`,
    };
  }

  /**
   * Waits until the orchestrator answers `/healthz` over HTTPS, verified against the run's CA and
   * the Service's DNS name: a refused certificate ends the wait at once with its reason.
   */
  private async waitReady(
    client: OrchestratorClient,
    servername: string,
    container: string,
    signal: AbortSignal,
  ): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = "";
    for (;;) {
      if (signal.aborted) throw new TiersError(ExitCode.Interrupted, "interrupted while the pods started");
      try {
        await client.check();
        return;
      } catch (error) {
        last = (error as Error).message;
        // A refused certificate or protocol is an answer, not a pod still starting.
        if (describeTlsFailure((error as Error).cause, servername) !== undefined) throw error;
      }
      const state = await podmanQuiet(["inspect", "--format", "{{.State.Status}}", container]);
      if (state.ok && state.out !== "running" && state.out !== "created" && state.out !== "configured") {
        const logs = await podmanQuiet(["logs", "--tail", "15", container]);
        throw new TiersError(
          ExitCode.Infrastructure,
          `container ${container} is ${state.out} before answering /healthz`,
          {
            details: logs.out.split("\n"),
          },
        );
      }
      if (Date.now() > deadline)
        throw new TiersError(
          ExitCode.Infrastructure,
          `container ${container} did not answer ${client.baseUrl}/healthz within ${READY_TIMEOUT_MS / 1000} s (${last})`,
        );
      await sleep(500);
    }
  }

  /** Everything of this run podman still has, by kind. */
  async remaining(): Promise<Leftovers> {
    const byName = (names: string[]) => names.filter((n) => n.startsWith(this.prefix));
    const containers = await podmanQuiet(["ps", "-a", "--format", "{{.Names}} {{.PodName}}"]);
    const secrets = await podmanQuiet(["secret", "ls", "--format", "{{.Name}}"]);
    const volumes = await podmanQuiet(["volume", "ls", "--format", "{{.Name}}"]);
    const networks = await podmanQuiet(["network", "ls", "--format", "{{.Name}}"]);
    const lines = (r: { ok: boolean; out: string }) =>
      r.ok
        ? r.out
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean)
        : [];
    return {
      pods: [
        ...new Set([
          ...byName(await listByLabel("pod", `test-tiers/run=${this.run}`)),
          ...byName((await podmanQuiet(["pod", "ps", "--format", "{{.Name}}"])).out.split("\n")),
        ]),
      ],
      containers: lines(containers)
        .filter((l) => l.split(" ").some((w) => w.startsWith(this.prefix)))
        .map((l) => l.split(" ")[0]!),
      volumes: lines(volumes).filter((v) => v.startsWith(this.prefix) || this.anonymous.includes(v)),
      secrets: byName(lines(secrets)),
      networks: byName(lines(networks)),
    };
  }

  private anonymous: string[] = [];

  async teardown(force: AbortSignal, say: (line: string) => void): Promise<void> {
    for (const w of this.waiters) w.kill();
    if (this.networks.length === 0) return;
    // Keep each container's output, then the volumes podman made for emptyDirs (no name of ours).
    const containers = this.environments.flatMap((e) => e.pods.flatMap((p) => p.containers));
    for (const c of containers) {
      const logs = await podmanQuiet(["logs", c.id]);
      if (logs.ok && this.logDir)
        await writeFile(join(this.logDir, `${c.name}.log`), `${logs.out}\n`).catch(() => undefined);
      const mounts = await podmanQuiet([
        "inspect",
        "--format",
        '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}} {{end}}{{end}}',
        c.id,
      ]);
      if (mounts.ok)
        this.anonymous.push(...mounts.out.split(/\s+/).filter((v) => v !== "" && !v.startsWith(this.prefix)));
    }
    say(
      `tearing down: ${this.plays.length} pod file(s), ${this.volumes.length} volume(s), ${this.secrets.length} secret(s), ${this.networks.length} network(s) of run ${this.run}`,
    );
    // The orchestrator first (it stops its cycle on SIGTERM), then what it talked to.
    for (const file of [...this.plays].reverse()) {
      // A second Ctrl-C: no graceful stop, the pods are removed at once below.
      if (!force.aborted) await podmanQuiet(["kube", "down", file], 90_000);
    }
    for (const pod of (await this.remaining()).pods) await podmanQuiet(["pod", "rm", "-f", "-t", "0", pod]);
    for (const v of new Set([...this.volumes, ...this.anonymous, ...(await this.remaining()).volumes]))
      await podmanQuiet(["volume", "rm", "-f", v]);
    for (const s of this.secrets) await podmanQuiet(["secret", "rm", s]);
    for (const n of this.networks) await podmanQuiet(["network", "rm", "-f", n]);
    const left = await this.remaining();
    const leftOver = (Object.entries(left) as [string, string[]][]).filter(([, v]) => v.length > 0);
    if (this.dir && !this.options.keep) await rm(this.dir, { recursive: true, force: true });
    else if (this.dir) say(`kept the pods' YAML in ${relative(process.cwd(), this.dir)}`);
    if (leftOver.length > 0)
      throw new TiersError(
        ExitCode.TeardownFailed,
        `podman still has ${leftOver.map(([k, v]) => `${k} ${v.join(", ")}`).join("; ")}`,
        {
          details: [
            `remove them with: podman pod rm -f …; podman volume rm …; podman secret rm …; podman network rm …`,
          ],
        },
      );
    say(`stopped: every pod, container, volume, secret and network of run ${this.run} is gone`);
  }
}
