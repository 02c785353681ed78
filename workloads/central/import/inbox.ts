import { watch, type FSWatcher } from "node:fs";
import { lstat, mkdir, readdir, rename, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { describeKind } from "../../../tiers/config/read-file.js";
import { escapeControls } from "../../../tiers/safe-text.js";
import { BundleError } from "../../bundle/errors.js";
import type { CentralDb } from "../db/connect.js";
import { importBundle, type ImportOptions, type ImportOutcome } from "./import-bundle.js";

/** A bundle file in an inbox: `*.tar.gz`, not hidden, not a writer's `.partial-…` file. */
export function isBundleFileName(name: string): boolean {
  return name.endsWith(".tar.gz") && !name.startsWith(".");
}

/** Bundle files given on the command line: each FILE, and the `*.tar.gz` files directly in each DIR, sorted. */
export async function expandBundlePaths(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const info = await stat(p);
    if (info.isDirectory()) {
      const names = (await readdir(p)).filter(isBundleFileName).sort();
      out.push(...names.map((n) => join(p, n)));
    } else out.push(p);
  }
  return out;
}

export type InboxEvent =
  | { readonly kind: "imported"; readonly outcome: ImportOutcome; readonly movedTo: string }
  | {
      readonly kind: "rejected";
      readonly file: string;
      /** The refusal; or, for an error that is not about the bundle's content but can never pass either, `internal_error`. */
      readonly reason: string;
      readonly detail: string;
      readonly movedTo: string;
    }
  | { readonly kind: "deferred"; readonly file: string; readonly error: unknown };

/**
 * Whether another try may succeed: the database was locked, unreachable or full (exit 6), or the
 * import was interrupted. Everything else — a refusal, a bug — fails the same way every time.
 */
function retryable(error: unknown): boolean {
  return (
    error instanceof TiersError &&
    !(error instanceof BundleError) &&
    (error.exitCode === ExitCode.Infrastructure || error.exitCode === ExitCode.Interrupted)
  );
}

/** Moves an inbox file; false when it went away meanwhile. */
async function move(file: string, to: string): Promise<boolean> {
  try {
    await rename(file, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException | null)?.code === "ENOENT") return false;
    throw error;
  }
}

export interface InboxOptions extends ImportOptions {
  readonly dir: string;
  readonly signal: AbortSignal;
  /** Rescan interval besides file-system notifications (default 2 s). */
  readonly pollMs?: number;
  readonly onEvent: (event: InboxEvent) => void;
}

/**
 * A free name in `dir` for `name` (`x.tar.gz`, then `x.1.tar.gz` …), so nothing is overwritten —
 * not even a dangling link already there (`lstat`: a rename would replace it).
 */
async function freeTarget(dir: string, name: string): Promise<string> {
  const stem = name.replace(/\.tar\.gz$/, "");
  for (let i = 0; ; i++) {
    const candidate = join(dir, i === 0 ? name : `${stem}.${i}.tar.gz`);
    try {
      await lstat(candidate);
    } catch {
      return candidate;
    }
  }
}

/**
 * What an inbox entry is, found without opening it: a regular file (or a link to one) to import,
 * gone, or why it can never be imported — a FIFO, a directory, a device or socket (`not_a_file`),
 * a link to one of those (`not_a_file`) or to nothing (`unreadable`). Such an entry is refused
 * from its name alone, so a FIFO is never opened and nothing waits for a writer.
 */
async function entryKind(file: string): Promise<"file" | "gone" | BundleError> {
  let entry;
  try {
    entry = await lstat(file);
  } catch {
    return "gone";
  }
  if (entry.isFile()) return "file";
  if (!entry.isSymbolicLink())
    return new BundleError("not_a_file", `the path is ${describeKind(entry)}, not a bundle file`);
  try {
    const target = await stat(file);
    if (target.isFile()) return "file";
    return new BundleError(
      "not_a_file",
      `the path is a symbolic link to ${describeKind(target)}, not a bundle file`,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return new BundleError(
      "unreadable",
      `the file cannot be opened (${code}${code === "ENOENT" ? ": a dangling symbolic link" : ""})`,
      { cause: error },
    );
  }
}

/**
 * Moves an inbox entry to `rejected/` (a rename: nothing is opened, whatever the entry is) with
 * `<name>.reason.txt`; undefined when it went away meanwhile.
 */
async function reject(file: string, error: unknown, options: InboxOptions): Promise<InboxEvent | undefined> {
  const name = basename(file);
  const reason = error instanceof BundleError ? error.reason : "internal_error";
  const detail = escapeControls(
    error instanceof BundleError ? error.detail : ((error as Error)?.message ?? String(error)),
    { lines: false },
  );
  const movedTo = await freeTarget(join(options.dir, "rejected"), name);
  if (!(await move(file, movedTo))) return undefined;
  await writeFile(
    `${movedTo}.reason.txt`,
    `reason: ${reason}\nmessage: ${detail}\nfile: ${escapeControls(name, { lines: false })}\nrefused_at: ${new Date().toISOString()}\n`,
  );
  return { kind: "rejected", file, reason, detail, movedTo };
}

/**
 * Imports one inbox file and moves it to `imported/` or `rejected/` (with `<name>.reason.txt`);
 * undefined when the file went away meanwhile.
 */
async function processFile(
  cdb: CentralDb,
  file: string,
  options: InboxOptions,
): Promise<InboxEvent | undefined> {
  let outcome: ImportOutcome;
  try {
    outcome = await importBundle(cdb, file, options);
  } catch (error) {
    if (retryable(error)) return { kind: "deferred", file, error };
    return reject(file, error, options);
  }
  const movedTo = await freeTarget(join(options.dir, "imported"), basename(file));
  if (!(await move(file, movedTo))) return undefined;
  return { kind: "imported", outcome, movedTo };
}

/**
 * Imports every bundle file now in the inbox, in name order, each moved as `watchInbox` does. An
 * entry named like a bundle that is no regular file (a FIFO, a directory, a dangling link) is
 * moved to `rejected/` with its reason at once: it can never be imported, so it is not kept.
 */
async function scanInbox(cdb: CentralDb, options: InboxOptions): Promise<void> {
  const names = (await readdir(options.dir)).filter(isBundleFileName).sort();
  for (const name of names) {
    if (options.signal.aborted) break;
    const file = join(options.dir, name);
    const kind = await entryKind(file);
    if (kind === "gone") continue;
    const event = kind === "file" ? await processFile(cdb, file, options) : await reject(file, kind, options);
    if (event) options.onEvent(event);
  }
}

/**
 * One pass over an inbox (the local runner's hand-off): every bundle file in it is imported and
 * moved to `imported/` or `rejected/` with a reason file; returns what happened to each.
 */
export async function importInbox(
  cdb: CentralDb,
  options: Omit<InboxOptions, "signal" | "onEvent" | "pollMs"> & {
    readonly signal?: AbortSignal;
    readonly onEvent?: (event: InboxEvent) => void;
  },
): Promise<InboxEvent[]> {
  await mkdir(join(options.dir, "imported"), { recursive: true });
  await mkdir(join(options.dir, "rejected"), { recursive: true });
  const events: InboxEvent[] = [];
  await scanInbox(cdb, {
    ...options,
    signal: options.signal ?? new AbortController().signal,
    onEvent: (e) => {
      events.push(e);
      options.onEvent?.(e);
    },
  });
  return events;
}

/**
 * Watches an inbox directory until `signal` aborts: every bundle file already there and every one
 * that arrives is imported and moved to `imported/` (imported, or already imported) or
 * `rejected/` with a reason file — a refusal, and any other failure that would repeat (a bug:
 * `internal_error`), so no bundle is tried forever. A file that fails because the database is
 * locked, unreachable or full stays in the inbox and is retried on the next scan. Writers should create files
 * under another name and rename them in (the bundle writer does).
 */
export async function watchInbox(cdb: CentralDb, options: InboxOptions): Promise<void> {
  await mkdir(join(options.dir, "imported"), { recursive: true });
  await mkdir(join(options.dir, "rejected"), { recursive: true });
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(options.dir, () => wake?.());
  } catch {
    watcher = undefined; // some file systems have no notifications: polling alone still works
  }
  const onAbort = () => wake?.();
  options.signal.addEventListener("abort", onAbort);
  try {
    while (!options.signal.aborted) {
      await scanInbox(cdb, options);
      if (options.signal.aborted) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollMs ?? 2000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    options.signal.removeEventListener("abort", onAbort);
    watcher?.close();
  }
}
