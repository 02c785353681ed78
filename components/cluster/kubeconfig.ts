import { homedir } from "node:os";
import { join } from "node:path";

/**
 * A kubeconfig for an EKS cluster that authenticates with `aws eks get-token` (the AWS CLI on the
 * user's PATH and the user's AWS credentials). JSON is valid YAML, so it is written as JSON.
 */
export function eksKubeconfig(p: {
  readonly clusterName: string;
  readonly endpoint: string;
  readonly certificateAuthorityData: string;
  readonly region: string;
}): string {
  const name = `${p.region}/${p.clusterName}`;
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name, cluster: { server: p.endpoint, "certificate-authority-data": p.certificateAuthorityData } },
    ],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
    users: [
      {
        name,
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: [
              "eks",
              "get-token",
              "--cluster-name",
              p.clusterName,
              "--region",
              p.region,
              "--output",
              "json",
            ],
            interactiveMode: "Never",
          },
        },
      },
    ],
  });
}

/** `~/x` → `<home>/x`; anything else unchanged (a path or the kubeconfig's own text). */
export function expandHome(pathOrContents: string, home: string = homedir()): string {
  return pathOrContents === "~"
    ? home
    : pathOrContents.startsWith("~/")
      ? join(home, pathOrContents.slice(2))
      : pathOrContents;
}
