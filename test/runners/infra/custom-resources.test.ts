import { describe, expect, it } from "vitest";
import {
  crdDirectory,
  customResourceType,
  validateCustomResource,
} from "../../../runners/infra/custom-resources.js";

const crds = crdDirectory();
/** The upstream CRD files exist on the development and CI machines, not in a user's clone. */
const withCrds = crds ? it : it.skip;
if (!crds)
  console.log(
    "skipped: CRD-schema checks (no ../shared/reference/crds in this checkout); package validators still run",
  );

const certificate = {
  apiVersion: "cert-manager.io/v1",
  kind: "Certificate",
  metadata: { name: "orchestrator", namespace: "tiers-env-1" },
  spec: {
    secretName: "orchestrator-tls",
    dnsNames: ["orchestrator.tiers-env-1.svc"],
    issuerRef: { name: "tiers-ca", kind: "ClusterIssuer", group: "cert-manager.io" },
  },
};

const podChaos = {
  apiVersion: "chaos-mesh.org/v1alpha1",
  kind: "PodChaos",
  metadata: { name: "pod-kill", namespace: "tiers-env-1" },
  spec: {
    action: "pod-kill",
    mode: "one",
    selector: { namespaces: ["tiers-env-1"], labelSelectors: { app: "sut" } },
  },
};

describe("validateCustomResource", () => {
  it("accepts a valid Certificate with the package validator (and the CRD where present)", async () => {
    const check = await validateCustomResource(certificate);
    expect(check.problems).toStrictEqual([]);
    expect(check.checkedBy).toContain("package @kubernetes-models/cert-manager");
    if (crds) expect(check.checkedBy).toContain("crd cert-manager.io_certificates.yaml");
  });

  it("names every problem of an invalid Certificate, from each validator", async () => {
    const bad = { ...certificate, spec: { dnsNames: "not-a-list", issuerRef: {} } };
    const check = await validateCustomResource(bad);
    expect(check.problems).toContain(
      "package @kubernetes-models/cert-manager: /spec must have required property secretName",
    );
    expect(check.problems).toContain("package @kubernetes-models/cert-manager: /spec/dnsNames must be array");
    if (crds)
      expect(check.problems).toContain(
        "crd cert-manager.io_certificates.yaml: /spec must have required property 'secretName'",
      );
  });

  withCrds("refuses a field the CRD does not list, where the API server would prune it", async () => {
    const typo = { ...podChaos, spec: { ...podChaos.spec, durration: "30s" } };
    const check = await validateCustomResource(typo);
    expect(check.checkedBy).toStrictEqual(["crd chaos-mesh.org_podchaos.yaml"]);
    expect(check.problems).toStrictEqual([
      "crd chaos-mesh.org_podchaos.yaml: /spec must NOT have additional properties (durration)",
    ]);
    expect((await validateCustomResource(podChaos)).problems).toStrictEqual([]);
  });

  withCrds("refuses a value outside a CRD's enum", async () => {
    const check = await validateCustomResource({
      ...podChaos,
      spec: { ...podChaos.spec, action: "pod-explode" },
    });
    expect(check.problems[0]).toMatch(
      /^crd chaos-mesh\.org_podchaos\.yaml: \/spec\/action must be equal to one of the allowed values/,
    );
  });

  it("has no validator for a kind nobody describes, and says so by an empty checkedBy", async () => {
    const check = await validateCustomResource({
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "w" },
    });
    expect(check).toStrictEqual({
      apiVersion: "example.com/v1",
      kind: "Widget",
      name: "w",
      checkedBy: [],
      problems: [],
    });
  });

  it.each([
    [
      "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
      { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor" },
    ],
    [
      "kubernetes:argoproj.io/v1alpha1:WorkflowTemplate",
      { apiVersion: "argoproj.io/v1alpha1", kind: "WorkflowTemplate" },
    ],
    ["kubernetes:networking.k8s.io/v1:NetworkPolicy", null],
    ["kubernetes:helm.sh/v3:Release", null],
    ["kubernetes:core/v1:Namespace", null],
    ["aws:s3/bucketV2:BucketV2", null],
  ])("customResourceType(%s)", (type, expected) => {
    expect(customResourceType(type)).toStrictEqual(expected);
  });
});
