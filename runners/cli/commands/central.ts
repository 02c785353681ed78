import type { Command } from "commander";
import { REPORT_FORMATS } from "../../../workloads/central/reports/formats.js";
import { runCommand } from "../run-command.js";

/**
 * `tiers central import | report | compare`. Only the command line is declared here; each action
 * imports its module when it runs, so other commands do not load the database drivers and vega.
 */

const DB_HELP =
  "results database: a SQLite file, postgres://…, or stack:<name> (a central stack's databaseUrl output; PGPASSWORD gives the password) (default TIERS_DB_URL, then .tiers/central/results.db)";

export interface ImportFlags {
  watch?: string;
  db?: string;
  keyring?: string;
  pollMs?: string;
  queue?: string;
  reports?: string;
}

export interface ReportFlags {
  format?: string;
  out?: string;
  baseline?: string;
  db?: string;
}

export interface CompareFlags {
  db?: string;
  all?: boolean;
}

export function registerCentralCommand(program: Command): void {
  const central = program
    .command("central")
    .description("central analysis: import signed bundles, compare runs, write reports");
  central
    .command("import")
    .description("verify and import bundles (files or directories of *.tar.gz), or watch an inbox")
    .argument("[paths...]", "bundle files, or directories holding them")
    .option(
      "--watch <dir|s3://bucket/prefix>",
      "keep importing bundles that arrive in DIR (or under an S3 prefix); move each to imported/ or rejected/ beside them",
    )
    .option(
      "--queue <url>",
      "with --watch s3://…: the SQS queue S3 notifies of new objects (default TIERS_INBOX_QUEUE_URL; without one the prefix is polled)",
    )
    .option(
      "--reports <s3://bucket/prefix>",
      "with --watch s3://…: after each imported bundle, write its cycle's reports there (default TIERS_REPORTS_URL)",
    )
    .option("--db <url>", DB_HELP)
    .option(
      "--keyring <file>",
      "trusted environment keys (default TIERS_KEYRING, then .tiers/central/keyring)",
    )
    .option(
      "--poll-ms <n>",
      "with --watch: rescan interval besides notifications (default 2000; 60000 with an SQS queue)",
    )
    .action((paths: string[], flags: ImportFlags) =>
      runCommand(async () => (await import("./central-import.js")).runImport(paths, flags)),
    );
  central
    .command("report")
    .description(
      "write a cycle's report: html (self-contained page), md (PR comment), json (everything), junit (CI)",
    )
    .argument("[cycle]", "cycle id (default: the most recent cycle)")
    .option("--format <format>", `one of ${REPORT_FORMATS.join(", ")}`, "html")
    .option("--out <path>", "file to write (default: standard output)")
    .option(
      "--baseline <cycle>",
      "cycle to compare with (default: the last passing run of the same tier and suite)",
    )
    .option("--db <url>", DB_HELP)
    .action((cycle: string | undefined, flags: ReportFlags) =>
      runCommand(async () => (await import("./central-report.js")).runReport(cycle, flags)),
    );
  central
    .command("compare")
    .description("compare two cycles metric by metric (Mann–Whitney U with a minimum effect size)")
    .argument("<baseline>", "the earlier or reference cycle")
    .argument("<candidate>", "the cycle to judge")
    .option("--all", "list unchanged metrics too")
    .option("--db <url>", DB_HELP)
    .action((a: string, b: string, flags: CompareFlags) =>
      runCommand(async () => (await import("./central-report.js")).runCompare(a, b, flags)),
    );
}
