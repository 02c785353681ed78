/** `tiers preview-offline`, run as a user runs it: the real CLI entry in a child process. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import type { CapturedGraph } from "../../runners/infra/graph.js";

const BIN = fileURLToPath(new URL("../../bin/tiers.js", import.meta.url));
const tiers = (...args: string[]) =>
  execa(process.execPath, [BIN, ...args], { reject: false, timeout: 120_000 });
const dir = mkdtempSync(join(tmpdir(), "tiers-preview-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("tiers preview-offline", () => {
  it("prints the stress stack's resource tree and its counts per type", async () => {
    const r = await tiers("preview-offline", "stress");
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("Stack stress (stacks/Pulumi.stress.yaml), offline under Pulumi's mock runtime");
    expect(lines).toContain("test-tiers-stress  pulumi:pulumi:Stack");
    expect(lines).toContain("└─ stress  tiers:tier:TestTier");
    expect(
      lines.some((l) =>
        /^ {3}[│ ] {2}[├└]─ us-east-1-nodes {2}aws:eks\/nodeGroup:NodeGroup {2}\[stress-aws-us-east-1\]$/.test(
          l,
        ),
      ),
    ).toBe(true);
    expect(
      lines.some((l) =>
        /[├└]─ stress-2-orchestrator {2}kubernetes:apps\/v1:Deployment {2}\[us-east-1-k8s\]$/.test(l),
      ),
    ).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/^kubernetes:apps\/v1:Deployment +6$/));
    expect(lines).toContainEqual(expect.stringMatching(/^aws:eks\/nodeGroup:NodeGroup +1$/));
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^156 resources: 143 cloud\/cluster objects, 9 components, 4 providers; program /,
      ),
    );
  });

  it("shows Chaos Mesh, cert-manager with one Certificate per environment, Argo, autoscaling and monitoring in the chaos stack", async () => {
    const r = await tiers("preview-offline", "chaos");
    expect(r.exitCode, r.stderr).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain("   ├─ us-east-1  tiers:platform:RegionPlatform");
    expect(lines).toContainEqual(
      expect.stringMatching(
        /[├└]─ us-east-1-chaos-mesh {2}kubernetes:helm\.sh\/v3:Release {2}\[us-east-1-k8s\]$/,
      ),
    );
    // The region's releases: Chaos Mesh, Argo's CRDs, metrics-server, cluster-autoscaler, the
    // monitoring stack (kube-prometheus-stack, Loki, Promtail, Tempo, the OTel collector), and one
    // namespaced Argo controller per environment.
    for (const release of [
      "chaos-mesh",
      "argo-crds",
      "metrics-server",
      "cluster-autoscaler",
      "kps",
      "loki",
      "promtail",
      "tempo",
      "otel-collector",
    ])
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`[├└]─ us-east-1-${release} {2}kubernetes:helm\\.sh/v3:Release `)),
      );
    expect(lines).toContainEqual(
      expect.stringMatching(/[├└]─ env-1-argo-workflows {2}kubernetes:helm\.sh\/v3:Release /),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^kubernetes:helm\.sh\/v3:Release +10$/));
    // cert-manager: the component, a self-signed and a CA ClusterIssuer, the CA and one
    // Certificate per environment's orchestrator.
    expect(lines).toContainEqual(
      expect.stringMatching(/[├└]─ us-east-1-cert-manager {2}kubernetes-cert-manager:index:CertManager /),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^kubernetes:cert-manager\.io\/v1:ClusterIssuer +2$/));
    expect(lines).toContainEqual(expect.stringMatching(/^kubernetes:cert-manager\.io\/v1:Certificate +2$/));
    expect(lines).toContainEqual(
      expect.stringMatching(/[├└]─ env-1-orchestrator-tls {2}kubernetes:cert-manager\.io\/v1:Certificate /),
    );
    // Per environment: the chaos Role and the load-Jobs Role; the WorkflowTemplate; the SUT's HPA.
    expect(lines).toContainEqual(
      expect.stringMatching(/^kubernetes:rbac\.authorization\.k8s\.io\/v1:Role +2$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^kubernetes:argoproj\.io\/v1alpha1:WorkflowTemplate +1$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^kubernetes:autoscaling\/v2:HorizontalPodAutoscaler +1$/),
    );
    // Namespaces: the environment's, chaos-mesh, cert-manager, monitoring and argo's CRD home.
    expect(lines).toContainEqual(expect.stringMatching(/^kubernetes:core\/v1:Namespace +5$/));
  });

  it("prints the captured graph as JSON with --json, secrets redacted", async () => {
    const r = await tiers("preview-offline", "local", "--json");
    expect(r.exitCode, r.stderr).toBe(0);
    const graph = JSON.parse(r.stdout) as CapturedGraph;
    expect(graph.ok).toBe(true);
    expect(graph.stack).toBe("local");
    expect(graph.resources.find((x) => x.type === "pulumi:providers:kubernetes")?.inputs.kubeconfig).toBe(
      "[secret]",
    );
    expect(r.stdout).not.toContain("MOCK-SECRET-");
  });

  it("exits 3 with every problem of a bad stack file, and prints no tree", async () => {
    const file = join(dir, "Pulumi.bad.yaml");
    writeFileSync(file, "config:\n  test-tiers:tier: mega\n  test-tiers:sut: { port: 80 }\n");
    const r = await tiers("preview-offline", "bad", "--stack-file", file);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      [
        `error: invalid stack configuration in ${file}`,
        `  ${file}:2:20 test-tiers:tier: not an allowed value (got "mega", expected one of base, stress, chaos, ultimate)`,
        `  ${file}:3:27 test-tiers:sut.port: too small (got 80, expected a value >= 1024)`,
      ].join("\n"),
    );
  });

  it("exits 2 for an environment count that is not a number", async () => {
    const r = await tiers("preview-offline", "stress", "--environments", "many");
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe('error: --environments: not a whole number (got "many")');
  });
});
