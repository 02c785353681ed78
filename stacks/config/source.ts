import { dirname, join, relative, isAbsolute } from "node:path";
import { fileURLToPath } from "node:url";
import { MAX_CONFIG_BYTES, readTextFile } from "../../tiers/config/read-file.js";
import { parseYamlText, type YamlSource } from "../../tiers/config/yaml-source.js";

/** Where `Pulumi.<stack>.yaml` files live (`stackConfigDir: stacks` in Pulumi.yaml). */
export const STACKS_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const PROJECT_DIR = dirname(STACKS_DIR);

/**
 * Overrides which file positions are read from (the offline harness points it at a file outside
 * `stacks/`). Values always come from the Pulumi runtime's config.
 */
export const STACK_FILE_ENV = "TIERS_STACK_CONFIG_FILE";

export function stackFilePath(stack: string): string {
  return join(STACKS_DIR, `Pulumi.${stack}.yaml`);
}

/** How a file is named in messages: relative to the project when inside it (`stacks/Pulumi.stress.yaml`). */
export function displayPath(file: string): string {
  const rel = relative(PROJECT_DIR, file);
  return rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}

/**
 * Config values as the Pulumi CLI hands them to a program: `"ns:key"` → string, structured values as
 * JSON text. Scalars are read back the way `pulumi.Config.getNumber/getBoolean/getObject` would.
 */
export function parseConfigValues(raw: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    try {
      out[k] = JSON.parse(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}

/**
 * The stack's config as a `YamlSource` rooted at the `config:` mapping: values from the runtime,
 * positions from the stack file when it can be read (a value that came from elsewhere is reported
 * at the file, without a line).
 */
export function stackConfigSource(
  stack: string,
  rawConfig: Readonly<Record<string, string>>,
  file: string = process.env[STACK_FILE_ENV] ?? stackFilePath(stack),
): YamlSource {
  const display = displayPath(file);
  // The Pulumi CLI (or the offline harness) already refused a file it could not read.
  const read = readTextFile(file, { maxBytes: MAX_CONFIG_BYTES, display });
  const positions: YamlSource | undefined =
    read.text === undefined ? undefined : parseYamlText(read.text, display).source;
  const data = parseConfigValues(rawConfig);
  return {
    file: display,
    data,
    positionOf(path, options) {
      return positions ? positions.positionOf(["config", ...path], options) : { file: display };
    },
  };
}

/**
 * What the Pulumi CLI would hand the program for a stack file's `config:` mapping: scalars as their
 * text, mappings and lists as JSON. `secure:` values (which only the CLI can decrypt) become a
 * placeholder and are listed as secret keys.
 */
export function cliConfigFromStackFile(configMap: Readonly<Record<string, unknown>>): {
  config: Record<string, string>;
  secretKeys: string[];
} {
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [k, v] of Object.entries(configMap)) {
    if (v !== null && typeof v === "object" && !Array.isArray(v) && "secure" in v) {
      config[k] = "[encrypted in the stack file]";
      secretKeys.push(k);
    } else {
      config[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
  }
  return { config, secretKeys };
}
