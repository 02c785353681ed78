import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import * as tls from "@pulumi/tls";
import type { Children } from "../shared/children.js";
import type { ObjectMeta } from "./guardrails.js";

export interface Credentials {
  /** Secret. */
  readonly apiToken: pulumi.Output<string>;
  readonly tokenSecret: k8s.core.v1.Secret;
  readonly signingSecret: k8s.core.v1.Secret;
  readonly signingPublicKeyPem: pulumi.Output<string>;
}

/**
 * The environment's own credentials, generated in the stack and kept secret in state: the
 * orchestrator API's bearer token and the ED25519 key that signs its bundles (PKCS#8 PEM).
 */
export function createCredentials(
  c: Children,
  meta: ObjectMeta,
  providers: { readonly random: random.Provider; readonly tls: tls.Provider },
): Credentials {
  const password = new random.RandomPassword(
    c.name("api-token"),
    { length: 48, special: false },
    c.optsWith(providers.random),
  );
  const apiToken = pulumi.secret(password.result);
  const tokenSecret = new k8s.core.v1.Secret(
    c.name("api-token"),
    {
      metadata: meta("orchestrator-api-token", "orchestrator"),
      type: "Opaque",
      stringData: { token: apiToken },
    },
    c.opts(),
  );
  const key = new tls.PrivateKey(c.name("signing-key"), { algorithm: "ED25519" }, c.optsWith(providers.tls));
  const signingSecret = new k8s.core.v1.Secret(
    c.name("signing-key"),
    {
      metadata: meta("bundle-signing-key", "orchestrator"),
      type: "Opaque",
      // Every value of a Secret is a Pulumi secret, the public half too: the policy pack's
      // no-plaintext-secrets rule holds a Secret's data to that, whatever the key.
      stringData: {
        "private.pem": pulumi.secret(key.privateKeyPem),
        "public.pem": pulumi.secret(key.publicKeyPem),
      },
    },
    c.opts(),
  );
  return { apiToken, tokenSecret, signingSecret, signingPublicKeyPem: key.publicKeyPem };
}
