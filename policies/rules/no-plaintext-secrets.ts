import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, describeResource, podSpecOf } from "../lib/kubernetes.js";
import { get, list, record, str } from "../lib/props.js";
import { expandPaths, isSecretName, SECRET_INPUTS, SECRET_PATTERNS, strings } from "../lib/secrets.js";

interface Config {
  /** Set by `tiers policy check`: the text that replaced every Pulumi secret in the inputs. */
  readonly redactedSecretMarker?: string;
}

export const CONFIG_MAP_TYPE = "kubernetes:core/v1:ConfigMap";

export const noPlaintextSecrets: ResourceValidationPolicy = {
  name: "no-plaintext-secrets",
  description:
    "Credentials reach the stack only as Pulumi secrets: no private key, access key or token in plain text in any input, no literal value for a credential-named environment variable or ConfigMap key, and (checked offline, where secrets are visible as such) every value of a Secret, a kubeconfig and a database password is a Pulumi secret.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      redactedSecretMarker: {
        type: "string",
        minLength: 1,
        description:
          "The text that stands for a Pulumi secret in the inputs (tiers policy check sets it; the engine decrypts secrets before policies run, so leave it unset there).",
      },
    },
  },
  validateResource: (args, reportViolation) => {
    const marker = args.getConfig<Config>().redactedSecretMarker;
    const isSecret = (v: unknown): boolean => marker !== undefined && v === marker;
    const problems: string[] = [];
    const secretPaths = new Set<string>();

    for (const pattern of SECRET_INPUTS[args.type] ?? []) {
      for (const path of expandPaths(args.props, pattern)) {
        secretPaths.add(path.join("."));
        // Under the engine the value arrives decrypted either way: only the offline check can tell.
        if (marker !== undefined && !isSecret(get(args.props, path)))
          problems.push(`${path.join(".")} is plain text; wrap it in pulumi.secret()`);
      }
    }

    const pod = podSpecOf(args.type, args.props);
    for (const c of pod ? containersOf(pod) : []) {
      for (const e of list(c.spec.env)) {
        const name = str(get(e, ["name"])) ?? "";
        const value = get(e, ["value"]);
        if (isSecretName(name) && typeof value === "string" && value !== "")
          problems.push(
            `${c.label} sets ${name} to a literal value; read it from a Secret (valueFrom.secretKeyRef)`,
          );
      }
    }
    if (args.type === CONFIG_MAP_TYPE) {
      for (const key of Object.keys(record(args.props.data) ?? {})) {
        if (isSecretName(key)) problems.push(`data.${key} holds a credential in a ConfigMap; use a Secret`);
      }
    }

    for (const s of strings(args.props)) {
      const path = s.path.join(".");
      if (isSecret(s.value) || [...secretPaths].some((p) => path === p || path.startsWith(`${p}.`))) continue;
      const hit = SECRET_PATTERNS.find((p) => p.pattern.test(s.value));
      if (hit)
        problems.push(
          `${path} holds ${hit.what} in plain text; keep credentials out of inputs or pass them as Pulumi secrets (pulumi.secret(), a Kubernetes Secret for a workload)`,
        );
    }

    if (problems.length > 0)
      reportViolation(`${describeResource(args.type, args.props, args.name)}: ${problems.join("; ")}`);
  },
};
