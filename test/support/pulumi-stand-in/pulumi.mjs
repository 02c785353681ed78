#!/usr/bin/env node
/* global process, setTimeout */
/**
 * **Stand-in** for the Pulumi CLI (the README names it as one), for `@pulumi/pulumi/automation` to
 * drive in tests: no real `pulumi` exists on these machines. It records every invocation (argv, cwd,
 * PULUMI_HOME) in `<dir>/calls.jsonl`, keeps its stacks in `<dir>/state.json`, and answers each
 * command the Automation API of @pulumi/pulumi 3.248 sends with what the CLI of that version prints
 * (text, or the JSON the SDK parses), exit 255 and the CLI's error text where the CLI fails. What
 * each `up`, `destroy` and `cancel` does comes from `<dir>/scenario.json`, written by the test.
 * `<dir>` is `$TIERS_PULUMI_STAND_IN`.
 *
 * It deploys nothing: `up` prints progress and sets the scenario's outputs; `destroy` empties the
 * stack. Config set through it is written to the stack file as the CLI would
 * (`<stackConfigDir>/Pulumi.<stack>.yaml`), and `stack rm` removes that file.
 */
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseDocument } from "yaml";

const dir = process.env.TIERS_PULUMI_STAND_IN;
if (!dir) {
  process.stderr.write("error: TIERS_PULUMI_STAND_IN is not set (this is a test stand-in for pulumi)\n");
  process.exit(255);
}
const argv = process.argv.slice(2);
appendFileSync(
  join(dir, "calls.jsonl"),
  `${JSON.stringify({ argv, cwd: process.cwd(), pulumiHome: process.env.PULUMI_HOME ?? null })}\n`,
);
const scenario = existsSync(join(dir, "scenario.json"))
  ? JSON.parse(readFileSync(join(dir, "scenario.json"), "utf8"))
  : {};
const stateFile = join(dir, "state.json");
const state = existsSync(stateFile)
  ? JSON.parse(readFileSync(stateFile, "utf8"))
  : { stacks: scenario.stacks ?? {}, attempts: {}, history: {} };
const save = () => writeFileSync(stateFile, JSON.stringify(state, null, 2));

const fail = (message, code = 255) => {
  process.stderr.write(`error: ${message}\n`);
  process.exit(code);
};
const flag = (name) => {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
};
const positional = () => {
  const out = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") return [...out, ...argv.slice(i + 1)];
    if (a.startsWith("--")) {
      if (["--stack", "--exec-kind", "--color", "--page-size", "--page", "--message"].includes(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
};
const stackName = () => flag("--stack");
const stackOf = (name) => {
  const s = state.stacks[name];
  if (!s) fail(`no stack named '${name}' found`);
  return s;
};
const stackFile = (name) => {
  const project = parse(readFileSync(join(process.cwd(), "Pulumi.yaml"), "utf8"));
  return join(process.cwd(), project.stackConfigDir ?? ".", `Pulumi.${name}.yaml`);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => new Date().toISOString();
const record = (name, kind, result) => {
  const list = (state.history[name] ??= []);
  list.unshift({
    version: list.length + 1,
    kind,
    startTime: now(),
    endTime: now(),
    result,
    message: "",
    environment: {},
    config: {},
    resourceChanges: {},
  });
};
/** What one scenario step for a command does: the n-th attempt's entry, or the last one's. */
const step = (command, name) => {
  const key = `${command}:${name}`;
  const n = (state.attempts[key] = (state.attempts[key] ?? 0) + 1);
  save();
  const steps = scenario[command] ?? [];
  const list = Array.isArray(steps) ? steps : [steps];
  return list[Math.min(n, list.length) - 1] ?? {};
};
async function progress(lines, delayMs) {
  for (const line of lines ?? []) {
    process.stdout.write(`${line}\n`);
    await sleep(delayMs ?? 20);
  }
}

const [cmd, sub] = argv;
const pos = positional();

if (cmd === "version") {
  process.stdout.write(`v${scenario.version ?? "3.248.0"}\n`);
} else if (cmd === "whoami") {
  process.stdout.write(`${JSON.stringify({ user: "tester", organizations: [], url: "file://~" })}\n`);
} else if (cmd === "stack" && sub === "select") {
  stackOf(stackName());
  state.current = stackName();
  save();
} else if (cmd === "stack" && sub === "init") {
  const name = pos[2];
  if (state.stacks[name]) fail(`stack '${name}' already exists`);
  state.stacks[name] = { tags: {}, resourceCount: 0, outputs: {}, lastUpdate: null, updateInProgress: false };
  state.current = name;
  save();
  process.stdout.write(`Created stack '${name}'\n`);
} else if (cmd === "stack" && sub === "rm") {
  const name = pos[2];
  const s = stackOf(name);
  if (s.resourceCount > 0 && !argv.includes("--force"))
    fail(
      `'${name}' still has resources; removal rejected. Possible actions:\n- Make sure that '${name}' is the stack that you want to destroy\n- Run \`pulumi destroy\` to delete the resources, then run \`pulumi stack rm\`\n- Run \`pulumi stack rm --force\` to override this error`,
    );
  delete state.stacks[name];
  save();
  if (!argv.includes("--preserve-config")) rmSync(stackFile(name), { force: true });
  process.stdout.write(`Stack '${name}' has been removed!\n`);
} else if (cmd === "stack" && sub === "ls") {
  const list = Object.entries(state.stacks).map(([name, s]) => ({
    name,
    current: state.current === name,
    ...(s.lastUpdate ? { lastUpdate: s.lastUpdate } : {}),
    updateInProgress: s.updateInProgress ?? false,
    ...(s.lastUpdate ? { resourceCount: s.resourceCount } : {}),
    url: `file://~/.pulumi/stacks/test-tiers/${name}.json`,
  }));
  process.stdout.write(`${JSON.stringify(list, null, 4)}\n`);
} else if (cmd === "stack" && sub === "tag") {
  const s = stackOf(stackName());
  if (argv[2] === "set") s.tags[pos[3]] = pos[4];
  else if (argv[2] === "rm") delete s.tags[pos[3]];
  else if (argv[2] === "ls") {
    process.stdout.write(
      `${JSON.stringify({ "pulumi:project": "test-tiers", "pulumi:runtime": "nodejs", ...s.tags }, null, 4)}\n`,
    );
  } else if (argv[2] === "get") {
    if (!(pos[3] in s.tags)) fail(`stack tag '${pos[3]}' not found for stack '${stackName()}'`);
    process.stdout.write(`${s.tags[pos[3]]}\n`);
  }
  save();
} else if (cmd === "config" && sub === "set-all") {
  const name = stackName();
  stackOf(name);
  const file = stackFile(name);
  const doc = existsSync(file) ? parseDocument(readFileSync(file, "utf8")) : parseDocument("config: {}\n");
  const usePath = argv.includes("--path");
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== "--plaintext" && argv[i] !== "--secret") continue;
    const [key, ...rest] = argv[i + 1].split("=");
    const text = rest.join("=");
    const value = usePath && /^(true|false)$/.test(text) ? text === "true" : text;
    const [head, ...tail] = usePath ? key.split(".") : [key];
    doc.setIn(["config", head, ...tail], argv[i] === "--secret" ? { secure: "v1:stand-in" } : value);
  }
  writeFileSync(file, doc.toString());
} else if (cmd === "config" && sub === "get") {
  const name = stackName();
  stackOf(name);
  const file = stackFile(name);
  const config = existsSync(file) ? (parse(readFileSync(file, "utf8"))?.config ?? {}) : {};
  const key = pos[2];
  if (!(key in config)) fail(`configuration key '${key}' not found for stack '${name}'`);
  const v = config[key];
  process.stdout.write(
    `${JSON.stringify({ value: typeof v === "string" ? v : JSON.stringify(v), secret: false })}\n`,
  );
} else if (cmd === "stack" && sub === "output") {
  const s = stackOf(stackName());
  const show = argv.includes("--show-secrets");
  const secret = new Set(scenario.secretOutputs ?? []);
  const out = Object.fromEntries(
    Object.entries(s.outputs ?? {}).map(([k, v]) => [k, !show && secret.has(k) ? "[secret]" : v]),
  );
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} else if (cmd === "stack" && sub === "history") {
  stackOf(stackName());
  process.stdout.write(`${JSON.stringify((state.history[stackName()] ?? []).slice(0, 1), null, 4)}\n`);
} else if (cmd === "up") {
  const name = stackName();
  const s = stackOf(name);
  const st = step("up", name);
  s.updateInProgress = true;
  save();
  process.stdout.write(`Updating (${name})\n\n`);
  let interrupted = false;
  process.on("SIGINT", () => {
    interrupted = true;
  });
  await progress(st.stdout, st.lineDelayMs);
  if (st.waitForSignal) while (!interrupted) await sleep(20);
  s.updateInProgress = false;
  s.lastUpdate = now();
  if (interrupted) {
    s.resourceCount = st.resourcesOnCancel ?? 3;
    record(name, "update", "failed");
    save();
    process.stdout.write("^C received; cancelling the current operation\n");
    fail("update canceled");
  }
  if (st.result === "failed") {
    s.resourceCount = st.resourcesOnFailure ?? 5;
    record(name, "update", "failed");
    save();
    process.stdout.write(`Resources:\n    + ${s.resourceCount} created\n    1 errored\n`);
    fail(st.stderr ?? "update failed");
  }
  s.resourceCount = scenario.resourceCount ?? 42;
  s.outputs = scenario.outputs ?? {};
  record(name, "update", "succeeded");
  save();
  process.stdout.write(`Resources:\n    + ${s.resourceCount} created\n\nDuration: 1s\n`);
} else if (cmd === "destroy") {
  const name = stackName();
  const s = stackOf(name);
  const st = step("destroy", name);
  process.stdout.write(`Destroying (${name})\n\n`);
  await progress(st.stdout, st.lineDelayMs);
  s.lastUpdate = now();
  if (st.result === "failed") {
    record(name, "destroy", "failed");
    save();
    fail(st.stderr ?? "destroy failed");
  }
  const n = s.resourceCount;
  s.resourceCount = 0;
  s.outputs = {};
  record(name, "destroy", "succeeded");
  save();
  process.stdout.write(
    `Resources:\n    - ${n} deleted\n\nThe resources in the stack have been deleted, but the history and configuration associated with the stack are still maintained.\n`,
  );
} else if (cmd === "cancel") {
  const name = stackName();
  const s = stackOf(name);
  if (!s.updateInProgress) fail(`no update is in progress for stack '${name}'`);
  s.updateInProgress = false;
  save();
  process.stdout.write(`The currently running update for '${name}' has been canceled!\n`);
} else {
  fail(`the pulumi stand-in does not answer \`pulumi ${argv.join(" ")}\``);
}
