import { randomBytes, webcrypto } from "node:crypto";
import { isIP } from "node:net";
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/**
 * Node's WebCrypto key pair. @peculiar/x509's declarations name the DOM's CryptoKey, which this
 * project's types (Node only, no DOM library) do not have; the objects are the same at run time,
 * so they are handed over `as never`.
 */
type KeyPair = webcrypto.CryptoKeyPair;

/** ECDSA P-256 with SHA-256: what cert-manager issues by default for ECDSA keys, and fast to make. */
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A server certificate and its key (PEM), issued by a run's CA. */
export interface IssuedCertificate {
  readonly cert: string;
  /** PKCS#8 PEM, unencrypted: written only to the run's private directory (0600). */
  readonly key: string;
}

/**
 * The certificate authority of one local run, as cert-manager's CA ClusterIssuer is of a cluster:
 * a self-signed root made for the run, whose key lives only in this object's memory (never on
 * disk) and is gone with it; each environment's orchestrator gets a server certificate from it,
 * and the runner trusts this CA alone.
 */
export interface RunCa {
  /** PEM of the CA certificate: what the runner verifies against. */
  readonly cert: string;
  /** A server certificate for these names (DNS names and IP addresses), valid for `days`. */
  issueServer(commonName: string, names: readonly string[], days?: number): Promise<IssuedCertificate>;
}

const serial = () => {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive
  return b.toString("hex");
};

const hours = (n: number) => new Date(Date.now() + n * 3_600_000);

async function pkcs8Pem(key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

async function keyPair(): Promise<KeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
}

/** Makes a run's CA (@peculiar/x509 over Node's WebCrypto), valid for `days` (a run's length is far below). */
export async function createRunCa(name: string, days = 2): Promise<RunCa> {
  const keys = await keyPair();
  const subject = `CN=${name.replace(/[,+="\\<>;#]/g, "_")}, O=test-tiers`;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: subject,
    // An hour back: a clock a little behind on the verifying side still accepts it.
    notBefore: hours(-1),
    notAfter: hours(days * 24),
    signingAlgorithm: ALGORITHM,
    keys: keys as never,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    cert: ca.toString("pem"),
    async issueServer(commonName, names, validDays = days) {
      const leafKeys = await keyPair();
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: `CN=${commonName.replace(/[,+="\\<>;#]/g, "_")}`,
        issuer: ca.subject,
        notBefore: hours(-1),
        notAfter: hours(validDays * 24),
        signingAlgorithm: ALGORITHM,
        publicKey: leafKeys.publicKey as never,
        signingKey: keys.privateKey as never,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(
            names.map((n) => ({ type: isIP(n) ? ("ip" as const) : ("dns" as const), value: n })),
            false,
          ),
          await x509.AuthorityKeyIdentifierExtension.create(keys.publicKey as never),
        ],
      });
      return { cert: leaf.toString("pem"), key: await pkcs8Pem(leafKeys.privateKey) };
    },
  };
}

/** The names a local orchestrator's certificate carries: it listens on 127.0.0.1 only. */
export const LOCAL_SERVER_NAMES: readonly string[] = ["127.0.0.1", "localhost"];
