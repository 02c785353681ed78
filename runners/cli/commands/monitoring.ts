import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { loadCatalog } from "../../../tiers/catalog.js";
import { ExitCode, TiersError } from "../../../tiers/errors.js";
import { generateDashboards } from "../../../tiers/monitoring/dashboards.js";
import { generateRules, renderRulesFile, RULES_FILE } from "../../../tiers/monitoring/rules.js";
import { AVAILABILITY_SOURCES, type AvailabilitySource } from "../../../tiers/monitoring/signals.js";
import { runCommand } from "../run-command.js";

interface RulesFlags {
  out?: string;
  availability: string;
  forScale?: string;
  catalog?: string;
}

interface DashboardFlags {
  out?: string;
  catalog?: string;
}

/** `tiers monitoring rules|dashboards`: what tiers/monitoring/ generates from the catalog. */
export function registerMonitoringCommand(program: Command): void {
  const monitoring = program
    .command("monitoring")
    .description("Prometheus rules and Grafana dashboards generated from the catalog (monitoring.yaml)");
  monitoring
    .command("rules")
    .description(
      "the recording and alerting rules, as a Prometheus rule file (stdout, or DIR/" + RULES_FILE + ")",
    )
    .option("--out <dir>", "write the rule file into this directory")
    .option(
      "--availability <source>",
      `where SUT availability comes from: ${AVAILABILITY_SOURCES.join(", ")}`,
      "scrape",
    )
    .option("--for-scale <factor>", "multiply every alert's `for` (short test runs only; default 1)")
    .option("--catalog <dir>", "read the catalog from this directory instead of tiers/catalog")
    .action((flags: RulesFlags) =>
      runCommand(() => {
        if (!(AVAILABILITY_SOURCES as readonly string[]).includes(flags.availability)) {
          throw new TiersError(
            ExitCode.Usage,
            `--availability: not a source (got ${JSON.stringify(flags.availability)}, expected one of ${AVAILABILITY_SOURCES.join(", ")})`,
          );
        }
        const forScale = flags.forScale === undefined ? 1 : Number(flags.forScale);
        if (!(forScale > 0) || !Number.isFinite(forScale)) {
          throw new TiersError(
            ExitCode.Usage,
            `--for-scale: not a positive number (got ${JSON.stringify(flags.forScale)}, expected a number > 0)`,
          );
        }
        const catalog = flags.catalog === undefined ? loadCatalog() : loadCatalog(flags.catalog);
        const rules = generateRules(catalog.monitoring, {
          availability: flags.availability as AvailabilitySource,
          forScale,
        });
        for (const s of rules.skipped) process.stderr.write(`skipped alert ${s.alert}: ${s.reason}\n`);
        const text = renderRulesFile(rules);
        if (flags.out === undefined) {
          process.stdout.write(text);
          return;
        }
        mkdirSync(flags.out, { recursive: true });
        writeFileSync(join(flags.out, RULES_FILE), text);
        process.stdout.write(`wrote ${join(flags.out, RULES_FILE)}\n`);
      }),
    );
  monitoring
    .command("dashboards")
    .description("the Grafana dashboards as JSON models (stdout as one object, or DIR/<name>.json each)")
    .option("--out <dir>", "write one <name>.json per dashboard into this directory")
    .option("--catalog <dir>", "read the catalog from this directory instead of tiers/catalog")
    .action((flags: DashboardFlags) =>
      runCommand(() => {
        const catalog = flags.catalog === undefined ? loadCatalog() : loadCatalog(flags.catalog);
        const dashboards = generateDashboards(catalog.monitoring);
        if (flags.out === undefined) {
          process.stdout.write(`${JSON.stringify(dashboards, null, 2)}\n`);
          return;
        }
        mkdirSync(flags.out, { recursive: true });
        for (const [name, d] of Object.entries(dashboards)) {
          writeFileSync(join(flags.out, `${name}.json`), `${JSON.stringify(d, null, 2)}\n`);
          process.stdout.write(`wrote ${join(flags.out, `${name}.json`)}\n`);
        }
      }),
    );
}
