import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { chmod, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatKeyringLine, loadKeyring, parseKeyring } from "../../../workloads/bundle/keyring.js";
import {
  generateSigningKey,
  keyIdOf,
  loadOrCreateSigningKey,
  loadSigningKey,
  signBytes,
  verifyBytes,
} from "../../../workloads/bundle/keys.js";
import { tempDir } from "../../support/temp.js";

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  dir = await tempDir();
});
afterAll(() => dir.remove());

describe("environment signing keys", () => {
  it("writes a PKCS#8 PEM readable by its owner only, and derives key_id from the raw public key", async () => {
    const path = join(dir.path, "k1", "env.pem");
    const key = await generateSigningKey(path);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    // Independently: the last 32 bytes of the SPKI DER are the raw ed25519 key.
    const der = createPublicKey(
      createPrivateKey(await import("node:fs").then((fs) => fs.readFileSync(path))),
    ).export({
      format: "der",
      type: "spki",
    });
    const raw = der.subarray(der.length - 32);
    expect(key.publicRaw.equals(raw)).toBe(true);
    expect(key.keyId).toBe(createHash("sha256").update(raw).digest("hex"));
    expect((await loadSigningKey(path)).keyId).toBe(key.keyId);
  });

  it("never overwrites an existing key", async () => {
    const path = join(dir.path, "k2.pem");
    await generateSigningKey(path);
    await expect(generateSigningKey(path)).rejects.toThrow(
      `signing key ${path} already exists; refusing to overwrite it`,
    );
    expect((await loadOrCreateSigningKey(path)).keyId).toBe((await loadSigningKey(path)).keyId);
  });

  it("accepts a key its group may read: a Kubernetes Secret volume with fsGroup (0440)", async () => {
    const path = join(dir.path, "k-group.pem");
    const made = await generateSigningKey(path);
    await chmod(path, 0o440);
    expect((await loadSigningKey(path)).keyId).toBe(made.keyId);
  });

  it("refuses a key file others can read", async () => {
    const path = join(dir.path, "k3.pem");
    await generateSigningKey(path);
    await chmod(path, 0o644);
    await expect(loadSigningKey(path)).rejects.toThrow(
      `signing key ${path} is open to others or writable by its group (mode 0644); run chmod 600 ${path}`,
    );
  });

  it("signs and verifies exactly the bytes given", async () => {
    const key = await generateSigningKey(join(dir.path, "k4.pem"));
    const other = await generateSigningKey(join(dir.path, "k5.pem"));
    const bytes = Buffer.from('{"bundle_schema":1}\n');
    const sig = signBytes(key, bytes);
    expect(sig.length).toBe(64);
    expect(verifyBytes(key.publicKey, bytes, sig)).toBe(true);
    expect(verifyBytes(other.publicKey, bytes, sig)).toBe(false);
    expect(verifyBytes(key.publicKey, Buffer.from('{"bundle_schema":2}\n'), sig)).toBe(false);
    expect(verifyBytes(key.publicKey, bytes, sig.subarray(0, 63))).toBe(false);
  });
});

describe("keyring", () => {
  it("reads trusted keys per environment, ignoring comments and blank lines", async () => {
    const a = await generateSigningKey(join(dir.path, "ka.pem"));
    const b = await generateSigningKey(join(dir.path, "kb.pem"));
    const path = join(dir.path, "keyring");
    await writeFile(
      path,
      [
        "# trusted environments",
        "",
        formatKeyringLine("env-1", a.publicRaw, "stress us-east-1"),
        formatKeyringLine("env-2", a.publicRaw),
        formatKeyringLine("*", b.publicRaw),
      ].join("\n"),
    );
    const ring = await loadKeyring(path);
    expect([...ring.keys.keys()].sort()).toStrictEqual([a.keyId, b.keyId].sort());
    expect([...ring.keys.get(a.keyId)!.environments]).toStrictEqual(["env-1", "env-2"]);
    expect([...ring.keys.get(b.keyId)!.environments]).toStrictEqual(["*"]);
    expect(keyIdOf(a.publicRaw)).toBe(a.keyId);
  });

  it("accepts the line the README builds with openssl from a private key", async () => {
    const path = join(dir.path, "kc.pem");
    const key = await generateSigningKey(path);
    const { stdout } = await execa("sh", [
      "-c",
      `openssl pkey -in ${path} -pubout -outform DER | tail -c 32 | base64`,
    ]);
    const ring = parseKeyring(`env-1 ed25519 ${stdout.trim()}\n`, "from openssl");
    expect([...ring.keys.keys()]).toStrictEqual([key.keyId]);
  });

  it("reports every bad line at once, with its position", () => {
    const text = [
      "env-1 ed25519",
      "Env_1 ed25519 AAAA",
      "env-2 rsa " + Buffer.alloc(32, 1).toString("base64"),
      "env-3 ed25519 not-base64!",
    ].join("\n");
    expect(() => parseKeyring(text, "ring")).toThrow(
      [
        "invalid keyring ring",
        '  ring:1:1 line: a key line has three fields (got "env-1 ed25519", expected <environment|*> ed25519 <base64 key>)',
        '  ring:2:1 environment: not an environment id (got "Env_1", expected * or ^[a-z][a-z0-9_-]{0,39}$)',
        "  ring:2:15 key: not a base64 ed25519 public key (got 3 bytes, expected 32 bytes of base64)",
        '  ring:3:7 algorithm: unsupported key algorithm (got "rsa", expected ed25519)',
        "  ring:4:15 key: not a base64 ed25519 public key (got 0 bytes, expected 32 bytes of base64)",
      ].join("\n"),
    );
  });

  it("says what a keyring is when the file is missing", async () => {
    await expect(loadKeyring(join(dir.path, "none"))).rejects.toThrow(
      `keyring ${join(dir.path, "none")} cannot be read (file not found); it lists each environment's public key: "<environment> ed25519 <base64 key>"`,
    );
  });
});
