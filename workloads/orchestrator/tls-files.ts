import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { statSync } from "node:fs";
import { ConfigError, type ConfigIssue } from "../../tiers/config/issues.js";
import { MAX_SECRET_BYTES, readTextFile } from "../../tiers/config/read-file.js";

/** The orchestrator's HTTPS certificate chain and key, as PEM text checked to belong together. */
export interface ServerTls {
  readonly cert: string;
  readonly key: string;
  /** The leaf's subject alternative names (`DNS:orchestrator.ns.svc, IP Address:127.0.0.1`). */
  readonly names: string;
}

type At = Omit<ConfigIssue, "message">;

/** A certificate chain of a few certificates stays far below this; a key far below MAX_SECRET_BYTES. */
const MAX_CHAIN_BYTES = 256 * 1024;

function modeOf(path: string): number {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return 0;
  }
}

const octal = (mode: number) => mode.toString(8).padStart(4, "0");

/**
 * Reads the certificate (PEM, leaf first, then any intermediates) and its private key (PEM) from
 * files, all problems at once: each file through `readTextFile` (regular, bounded, UTF-8), the key
 * refused when others may read it or its group may write it, the certificate and key parsed, and
 * the key checked to be the certificate's.
 *
 * Group read of the key is allowed, as for the signing key: a Kubernetes Secret volume gives the
 * pod's fsGroup read access (0440), the only way the non-root orchestrator can read the Secret
 * cert-manager writes. The token file is stricter (0600) because the cluster passes the token in an
 * environment variable, so a token file has no such reason.
 */
export function readServerTls(
  files: { readonly cert: string; readonly key: string },
  at: { readonly cert: At; readonly key: At },
): ServerTls {
  const issues: ConfigIssue[] = [];
  const cert = readTextFile(files.cert, { maxBytes: MAX_CHAIN_BYTES });
  for (const i of cert.issues)
    issues.push({ ...at.cert, ...pick(i), message: `${files.cert}: ${i.message}` });
  const key = readTextFile(files.key, { maxBytes: MAX_SECRET_BYTES });
  for (const i of key.issues) issues.push({ ...at.key, ...pick(i), message: `${files.key}: ${i.message}` });
  const mode = modeOf(files.key);
  if (key.text !== undefined && (mode & 0o027) !== 0)
    issues.push({
      ...at.key,
      message: `TLS key file ${files.key} is readable by others or writable by its group (mode ${octal(mode)}); run chmod 600 ${files.key}`,
      got: octal(mode),
      expected: "0600, 0400 or 0440",
    });
  let leaf: X509Certificate | undefined;
  if (cert.text !== undefined) {
    try {
      if (!cert.text.includes("-----BEGIN CERTIFICATE-----")) throw new Error("no PEM CERTIFICATE block");
      leaf = new X509Certificate(cert.text);
    } catch (error) {
      issues.push({
        ...at.cert,
        message: `${files.cert} is not a PEM X.509 certificate: ${(error as Error).message}`,
        expected: "a PEM certificate chain, the server's certificate first",
      });
    }
  }
  let privateKey: KeyObject | undefined;
  if (key.text !== undefined && (mode & 0o027) === 0) {
    try {
      privateKey = createPrivateKey(key.text);
    } catch (error) {
      issues.push({
        ...at.key,
        message: `${files.key} is not a PEM private key: ${(error as Error).message}`,
        expected: "a PEM private key (PKCS#8, SEC1 or PKCS#1), unencrypted",
      });
    }
  }
  if (leaf && privateKey && !leaf.checkPrivateKey(privateKey))
    issues.push({
      ...at.key,
      message: `${files.key} is not the private key of the certificate in ${files.cert} (subject ${leaf.subject.replace(/\n/g, ", ")})`,
      expected: "the key the certificate was issued for",
    });
  if (leaf && Date.parse(leaf.validTo) < Date.now())
    issues.push({
      ...at.cert,
      message: `the certificate in ${files.cert} expired on ${leaf.validTo}`,
      expected: "a certificate valid now",
    });
  if (issues.length > 0 || !leaf || cert.text === undefined || key.text === undefined)
    throw new ConfigError(issues, "invalid orchestrator TLS files");
  return { cert: cert.text, key: key.text, names: leaf.subjectAltName ?? "" };
}

const pick = (i: ConfigIssue) => ({
  ...(i.got !== undefined ? { got: i.got } : {}),
  ...(i.expected !== undefined ? { expected: i.expected } : {}),
});
