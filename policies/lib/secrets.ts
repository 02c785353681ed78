/**
 * What counts as secret material in resource inputs, for the no-plaintext-secrets policy.
 *
 * The engine hands a policy every Pulumi secret already decrypted (pulumi-policy unwraps secret
 * values before `validateResource` runs), so under `pulumi preview --policy-pack` a policy cannot
 * tell a secret from plain text. The offline check (`tiers policy check`) sees the captured inputs,
 * in which every Pulumi secret is replaced by a marker, and passes that marker in the policy's
 * config: only there can "this value must be a Pulumi secret" be checked.
 */

/** Inputs that hold credentials by their nature: they must be Pulumi secrets. */
export const SECRET_INPUTS: Readonly<Record<string, readonly (readonly string[])[]>> = {
  "kubernetes:core/v1:Secret": [
    ["data", "*"],
    ["stringData", "*"],
  ],
  "pulumi:providers:kubernetes": [["kubeconfig"]],
  "aws:rds/instance:Instance": [["password"]],
  "aws:rds/cluster:Cluster": [["masterPassword"]],
  "aws:secretsmanager/secretVersion:SecretVersion": [["secretString"]],
};

/** Values that are credentials whatever key holds them. */
export const SECRET_PATTERNS: readonly { readonly what: string; readonly pattern: RegExp }[] = [
  { what: "a private key", pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/ },
  { what: "an AWS access key id", pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { what: "a GitHub token", pattern: /\bgh[pousr]_[A-Za-z0-9]{36,}\b/ },
];

/**
 * Names of environment variables and ConfigMap keys that hold a credential. Names ending in
 * _FILE, _PATH or _DIR point at one instead (`TIERS_SIGNING_KEY_FILE`).
 */
const SECRET_NAME = /(?:token|secret|passw(?:or)?d|api[-_]?key|private[-_]?key|access[-_]?key|credential)/i;
const REFERENCE_NAME = /[-_.](?:file|path|dir)$/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !REFERENCE_NAME.test(name);
}

/** `[["stringData","token"], …]`: the concrete paths of `props` that `pattern` (with `*`) matches. */
export function expandPaths(props: unknown, pattern: readonly string[]): string[][] {
  let paths: { path: string[]; value: unknown }[] = [{ path: [], value: props }];
  for (const step of pattern) {
    const next: { path: string[]; value: unknown }[] = [];
    for (const { path, value } of paths) {
      if (value === null || typeof value !== "object") continue;
      const keys = step === "*" ? Object.keys(value) : [step];
      for (const k of keys) {
        const v = (value as Record<string, unknown>)[k];
        if (v !== undefined && v !== null) next.push({ path: [...path, k], value: v });
      }
    }
    paths = next;
  }
  return paths.map((p) => p.path);
}

/** Every string in `value` with its dotted path, depth first. */
export function strings(value: unknown, path: string[] = []): { path: string[]; value: string }[] {
  if (typeof value === "string") return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, [...path, String(i)]));
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => strings(v, [...path, k]));
  return [];
}
