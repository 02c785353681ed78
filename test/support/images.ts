/**
 * The images the container tests run, built once per `npm test` and shared by every test file:
 * a lock directory makes parallel files wait for one build, and the images' label with the hash of
 * every build input (INPUTS_LABEL) lets later files and runs reuse images that match the checkout.
 * `.ci/run` builds them before the tests, so in CI this only checks the label.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { buildImages } from "../../runners/images/build.js";
import {
  IMAGE_SPECS,
  imageRef,
  INPUTS_LABEL,
  inputsHash,
  projectVersion,
} from "../../runners/images/images.js";

export const STAND_IN = "localhost/test-tiers/node-stand-in:20";

/** Why podman cannot run the container tests here, or undefined when it can. */
export function podmanProblem(): string | undefined {
  try {
    const out = execFileSync("podman", ["info", "--format", "{{.Host.OCIRuntime.Name}}"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 30_000,
    });
    return out.trim() === "" ? "podman info reports no runtime" : undefined;
  } catch (error) {
    return `podman does not run here (${(error as Error).message.split("\n")[0]}): run sudo .ci/podman-setup`;
  }
}

async function labelOf(ref: string): Promise<string> {
  const r = await execa(
    "podman",
    ["image", "inspect", "--format", `{{index .Labels "${INPUTS_LABEL}"}}`, ref],
    {
      reject: false,
    },
  );
  return r.exitCode === 0 ? r.stdout.trim() : "";
}

async function nodeImage(): Promise<string | undefined> {
  if (process.env.TIERS_NODE_IMAGE) return process.env.TIERS_NODE_IMAGE;
  const r = await execa("podman", ["image", "exists", STAND_IN], { reject: false });
  return r.exitCode === 0 ? STAND_IN : undefined;
}

const LOCK = join(tmpdir(), "test-tiers-images.lock");

function lockHolderAlive(): boolean {
  try {
    const pid = Number(readFileSync(join(LOCK, "pid"), "utf8"));
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure the images of this checkout exist (`ghcr.io/test-tiers/<name>:<version>`), building
 * them under the lock if not. Returns how long it waited or built.
 */
export async function ensureImages(
  say: (line: string) => void = () => undefined,
): Promise<{ built: boolean; ms: number }> {
  const t0 = Date.now();
  const hash = inputsHash();
  const current = async () =>
    (await Promise.all(IMAGE_SPECS.map((s) => labelOf(imageRef(s.name, projectVersion()))))).every(
      (l) => l === hash,
    );
  if (await current()) return { built: false, ms: Date.now() - t0 };
  for (;;) {
    try {
      mkdirSync(LOCK);
      writeFileSync(join(LOCK, "pid"), String(process.pid));
      break;
    } catch {
      if (!lockHolderAlive()) {
        await sleep(1000); // it may be writing its pid
        if (!lockHolderAlive()) rmSync(LOCK, { recursive: true, force: true });
      } else await sleep(2000);
    }
  }
  try {
    if (await current()) return { built: false, ms: Date.now() - t0 };
    const base = await nodeImage();
    await buildImages({
      engine: "podman",
      ...(base !== undefined ? { nodeImage: base } : {}),
      say,
    });
    return { built: true, ms: Date.now() - t0 };
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
