/**
 * Issue 13 in the offline graph of every shipped stack: a monitoring stack per region with the
 * catalog's values, the generated rules and dashboards, one monitor per environment, custom
 * resources that validate against their CRDs and wait for the release installing them, and on
 * ultimate the remote write to the primary over a VPC peering.
 */
import { readdirSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parseCidr, overlaps } from "../../components/network/cidr.js";
import { CHARTS } from "../../components/platform/monitoring/charts.js";
import { captureStack } from "../../runners/infra/capture.js";
import { crdDirectory, validateGraphCustomResources } from "../../runners/infra/custom-resources.js";
import { get, SECRET_MARKER, type CapturedResource } from "../../runners/infra/graph.js";
import { STACKS_DIR } from "../../stacks/config/source.js";
import { loadCatalog } from "../../tiers/catalog.js";
import { generateDashboards } from "../../tiers/monitoring/dashboards.js";
import { generateRules } from "../../tiers/monitoring/rules.js";
import type { TierName } from "../../tiers/schema/names.js";
import { GraphView } from "./graph-view.js";

const catalog = loadCatalog();
const SHIPPED = readdirSync(STACKS_DIR)
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  // The tier stacks; the central stack has no region platform (central-stack.test.ts).
  .filter((s): s is string => s !== undefined && s !== "central")
  .sort();
const graphs = new Map<string, GraphView>();

beforeAll(async () => {
  for (const s of SHIPPED) graphs.set(s, new GraphView(await captureStack(s)));
}, 300_000);

interface Outputs {
  tier: TierName;
  mode: "eks" | "kubeconfig";
  regions: Record<string, { roles: string[]; clusterName?: string }>;
  environments: Record<string, { region: string; namespace: string }>;
}
const outputs = (s: string): Outputs => graphs.get(s)!.graph.outputs as Outputs;

/** The resources under region `loc`'s RegionMonitoring. */
function monitoringOf(v: GraphView, loc: string): CapturedResource[] {
  const component = v.ofType("tiers:platform:RegionMonitoring").find((c) => c.name === loc);
  expect(component, `RegionMonitoring ${loc}`).toBeDefined();
  return v.resources.filter((r) => v.ancestors(r).some((a) => a.urn === component!.urn));
}

const release = (inRegion: CapturedResource[], chart: string): CapturedResource => {
  const found = inRegion.filter(
    (r) => r.type === "kubernetes:helm.sh/v3:Release" && get(r.inputs, "chart") === chart,
  );
  expect(found, chart).toHaveLength(1);
  return found[0]!;
};

describe.each(SHIPPED)("stack %s", (stack) => {
  it("has one monitoring stack per region, each with the catalog's values", () => {
    const v = graphs.get(stack)!;
    const out = outputs(stack);
    const tier = catalog.tiers[out.tier];
    expect(
      v
        .ofType("tiers:platform:RegionMonitoring")
        .map((c) => c.name)
        .sort(),
    ).toStrictEqual(Object.keys(out.regions).sort());
    for (const loc of Object.keys(out.regions)) {
      const mine = monitoringOf(v, loc);
      const kps = release(mine, "kube-prometheus-stack");
      expect(get(kps.inputs, "version")).toBe(CHARTS.kubePrometheusStack.version);
      expect(get(kps.inputs, "repositoryOpts.repo")).toBe(CHARTS.kubePrometheusStack.repo);
      expect(get(kps.inputs, "namespace")).toBe("monitoring");
      const spec = get(kps.inputs, "values.prometheus.prometheusSpec") as Record<string, unknown>;
      expect(spec.scrapeInterval).toBe(`${catalog.monitoring.prometheus.scrape_interval_s}s`);
      expect(spec.retention).toBe(`${catalog.monitoring.prometheus.retention_days}d`);
      expect(get(spec, "storageSpec.volumeClaimTemplate.spec.resources.requests.storage")).toBe(
        `${Math.max(20, Math.ceil(tier.compute.storage_gb / 20))}Gi`,
      );
      const labels = spec.externalLabels as Record<string, string>;
      expect([labels.tier, labels.region]).toStrictEqual([out.tier, loc]);
      if (out.mode === "eks") expect(labels.cluster).toBe(out.regions[loc]!.clusterName);
      else expect(labels.cluster).toMatch(/\S/);
      for (const k of ["ruleSelector", "serviceMonitorSelector", "podMonitorSelector"])
        expect(spec[k], k).toStrictEqual({ matchLabels: { "app.kubernetes.io/part-of": "test-tiers" } });
      // Grafana's admin comes from a Secret whose password is a generated Pulumi secret.
      const secretName = get(kps.inputs, "values.grafana.admin.existingSecret");
      const secret = mine.find(
        (r) => r.type === "kubernetes:core/v1:Secret" && get(r.inputs, "metadata.name") === secretName,
      );
      expect(secret, `Secret ${String(secretName)}`).toBeDefined();
      expect([get(secret!.inputs, "stringData"), get(secret!.inputs, "stringData.admin-password")]).toContain(
        SECRET_MARKER,
      );
      expect(get(kps.inputs, "values.grafana.sidecar.dashboards")).toMatchObject({
        enabled: true,
        label: "grafana_dashboard",
      });
      // Logs and traces.
      const loki = release(mine, "loki");
      expect(get(loki.inputs, "values.deploymentMode")).toBe("SingleBinary");
      expect(get(loki.inputs, "values.loki.limits_config.retention_period")).toBe(
        `${catalog.monitoring.logging.retention_days * 24}h`,
      );
      for (const chart of ["promtail", "tempo", "opentelemetry-collector"]) release(mine, chart);
      for (const r of mine.filter((x) => x.type === "kubernetes:helm.sh/v3:Release")) {
        const pinned = Object.values(CHARTS).find((c) => c.chart === get(r.inputs, "chart"));
        expect(get(r.inputs, "version"), r.urn).toBe(pinned?.version);
      }
    }
  });

  it("has the generated rules and dashboards in every region, and one ServiceMonitor per environment", () => {
    const v = graphs.get(stack)!;
    const out = outputs(stack);
    const groups = generateRules(catalog.monitoring, { availability: "kube-state-metrics" }).groups;
    const dashboards = generateDashboards(catalog.monitoring);
    for (const loc of Object.keys(out.regions)) {
      const mine = monitoringOf(v, loc);
      const rules = mine.filter((r) => r.type === "kubernetes:monitoring.coreos.com/v1:PrometheusRule");
      expect(rules).toHaveLength(1);
      expect(get(rules[0]!.inputs, "spec.groups")).toStrictEqual(JSON.parse(JSON.stringify(groups)));
      const boards = mine.filter(
        (r) =>
          r.type === "kubernetes:core/v1:ConfigMap" &&
          get(r.inputs, "metadata.labels.grafana_dashboard") === "1",
      );
      expect(boards.map((b) => get(b.inputs, "metadata.name")).sort()).toStrictEqual(
        Object.keys(dashboards).sort(),
      );
      const monitors = mine.filter((r) => r.type === "kubernetes:monitoring.coreos.com/v1:ServiceMonitor");
      const envs = Object.values(out.environments).filter((e) => e.region === loc);
      expect(monitors.map((m) => get(m.inputs, "spec.namespaceSelector.matchNames")).sort()).toStrictEqual(
        envs.map((e) => [e.namespace]).sort(),
      );
      for (const m of monitors) {
        expect(get(m.inputs, "spec.endpoints")).toMatchObject([
          { port: "http", path: "/metrics", interval: "15s" },
        ]);
        expect(get(m.inputs, "spec.selector.matchExpressions")).toStrictEqual([
          { key: "app.kubernetes.io/name", operator: "In", values: ["orchestrator", "sut"] },
        ]);
      }
    }
  });

  it("makes every custom resource wait for the release that installs its CRD", () => {
    const v = graphs.get(stack)!;
    for (const loc of Object.keys(outputs(stack).regions)) {
      const mine = monitoringOf(v, loc);
      const kps = release(mine, "kube-prometheus-stack");
      const crs = mine.filter((r) => r.type.startsWith("kubernetes:monitoring.coreos.com/"));
      expect(crs.length).toBeGreaterThan(0);
      for (const cr of crs) expect(cr.dependencies, cr.urn).toContain(kps.urn);
    }
  });

  it("validates every custom resource against its CRD", async () => {
    const checks = await validateGraphCustomResources(graphs.get(stack)!.graph);
    const monitoring = checks.filter((c) => c.urn.includes("monitoring.coreos.com"));
    expect(monitoring.length).toBeGreaterThan(0);
    if (crdDirectory() === null)
      console.log("skipped: ../shared/reference/crds absent; validated by the package only");
    expect(checks.flatMap((c) => c.problems.map((p) => `${c.kind} ${c.name}: ${p}`))).toStrictEqual([]);
    for (const c of monitoring) expect(c.checkedBy.length, c.urn).toBeGreaterThan(0);
  });

  it("labels the monitoring namespace privileged (node-exporter), Chaos Mesh's too (its daemon), and every other namespace restricted", () => {
    const v = graphs.get(stack)!;
    const namespaces = v.ofType("kubernetes:core/v1:Namespace");
    expect(namespaces.filter((n) => get(n.inputs, "metadata.name") === "monitoring")).toHaveLength(
      Object.keys(outputs(stack).regions).length,
    );
    for (const n of namespaces) {
      const level = get(n.inputs, "metadata.labels")?.["pod-security.kubernetes.io/enforce" as never];
      const name = get(n.inputs, "metadata.name") as string;
      expect(level, n.urn).toBe(name === "monitoring" || name === "chaos-mesh" ? "privileged" : "restricted");
    }
  });
});

describe("stack ultimate (multi-region)", () => {
  it("gives each region its own VPC CIDR, none overlapping", () => {
    const vpcs = graphs
      .get("ultimate")!
      .ofType("aws:ec2/vpc:Vpc")
      .map((r) => get(r.inputs, "cidrBlock") as string);
    expect(vpcs).toHaveLength(3);
    const parsed = vpcs.map((c) => parseCidr(c)!);
    for (const [i, a] of parsed.entries())
      for (const b of parsed.slice(i + 1)) expect(overlaps(a, b), `${vpcs.join(" ")}`).toBe(false);
  });

  it("peers the secondary and tertiary VPCs with the primary's, routing each private table to the other CIDR", () => {
    const v = graphs.get("ultimate")!;
    const out = outputs("ultimate");
    const primary = Object.entries(out.regions).find(([, r]) => r.roles.includes("primary"))![0];
    const peerings = v.ofType("aws:ec2/vpcPeeringConnection:VpcPeeringConnection");
    expect(peerings).toHaveLength(Object.keys(out.regions).length - 1);
    for (const p of peerings) expect(get(p.inputs, "peerRegion")).toBe(primary);
    expect(v.ofType("aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter")).toHaveLength(
      peerings.length,
    );
    const peerRoutes = v
      .ofType("aws:ec2/route:Route")
      .filter((r) => get(r.inputs, "vpcPeeringConnectionId") !== undefined);
    const privateTables = v
      .ofType("aws:ec2/routeTable:RouteTable")
      .filter((t) => t.name.includes("-private-"));
    // Each peering: a route in each of the two sides' private tables.
    expect(peerRoutes).toHaveLength(
      (privateTables.length / Object.keys(out.regions).length) * 2 * peerings.length,
    );
    const cidrs = new Set(v.ofType("aws:ec2/vpc:Vpc").map((r) => get(r.inputs, "cidrBlock")));
    for (const r of peerRoutes) expect(cidrs.has(get(r.inputs, "destinationCidrBlock"))).toBe(true);
  });

  it("turns on the primary's remote-write receiver and points the others at it", () => {
    const v = graphs.get("ultimate")!;
    const out = outputs("ultimate");
    const receiver = v
      .ofType("kubernetes:core/v1:Service")
      .find((s) => get(s.inputs, "metadata.name") === "prometheus-remote-write");
    expect(receiver).toBeDefined();
    // Its listener on 9090 is open to the other regions' VPCs, exactly: what remote-writes over the peering.
    const primary = Object.entries(out.regions).find(([, r]) => r.roles.includes("primary"))![0];
    const vpcs = v.ofType("aws:ec2/vpc:Vpc");
    const others = vpcs.filter((r) => !r.name.includes(primary)).map((r) => get(r.inputs, "cidrBlock"));
    expect(others).toHaveLength(Object.keys(out.regions).length - 1);
    expect([...(get(receiver!.inputs, "spec.loadBalancerSourceRanges") as string[])].sort()).toStrictEqual(
      [...others].sort(),
    );
    expect(get(receiver!.inputs, "spec.loadBalancerSourceRanges")).not.toContain(
      get(vpcs.find((r) => r.name.includes(primary))!.inputs, "cidrBlock"),
    );
    for (const [loc, r] of Object.entries(out.regions)) {
      const spec = get(
        release(monitoringOf(v, loc), "kube-prometheus-stack").inputs,
        "values.prometheus.prometheusSpec",
      ) as Record<string, unknown>;
      if (r.roles.includes("primary")) {
        expect(spec.enableRemoteWriteReceiver).toBe(true);
        expect(spec.remoteWrite).toBeUndefined();
      } else {
        expect(spec.enableRemoteWriteReceiver).toBe(false);
        const writes = spec.remoteWrite as { url: string }[];
        expect(writes).toHaveLength(1);
        expect(writes[0]!.url).toMatch(/^http:\/\/[^/]+\.elb\.mock\.amazonaws\.com:9090\/api\/v1\/write$/);
      }
    }
  });
});
