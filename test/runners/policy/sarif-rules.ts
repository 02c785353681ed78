/**
 * The parts of SARIF 2.1.0 (OASIS, sarif-schema-2.1.0.json) and of GitHub code scanning's upload
 * rules that `tiers policy check --format sarif` relies on, as a zod schema: checked here without
 * downloading the schema.
 *
 * SARIF 2.1.0: `version` "2.1.0"; `runs` an array; a run's `tool.driver.name` required; a rule's
 * `id` required; `defaultConfiguration.level` and a result's `level` one of none, note, warning,
 * error; a result's `message` has `text`; `ruleIndex` indexes `tool.driver.rules` and that rule's
 * id equals `ruleId`; `region.startLine` an integer >= 1; `partialFingerprints` string values.
 * GitHub: one run per tool in an upload; every result has a physical location whose artifact URI
 * is relative to the repository (or a file: URI); rule ids unique; at most 25,000 results a run.
 */
import { z } from "zod";

const Level = z.enum(["none", "note", "warning", "error"]);
const Text = z.strictObject({ text: z.string().min(1) });

const Rule = z.object({
  id: z.string().min(1).max(255),
  name: z.string().regex(/^[A-Z][A-Za-z0-9]*$/),
  shortDescription: Text.refine((t) => t.text.length <= 1024, "shortDescription over 1024 characters"),
  fullDescription: Text,
  help: Text,
  defaultConfiguration: z.object({ level: Level }),
});

const Result = z.object({
  ruleId: z.string().min(1),
  ruleIndex: z.number().int().min(0),
  level: Level,
  message: Text,
  locations: z
    .array(
      z.object({
        physicalLocation: z.object({
          artifactLocation: z.object({
            uri: z
              .string()
              .refine(
                (u) => u.startsWith("file:///") || !/^([a-z]+:|\/)/i.test(u),
                "not a relative or file: URI",
              ),
          }),
          region: z.object({ startLine: z.number().int().min(1) }),
        }),
        logicalLocations: z
          .array(z.object({ fullyQualifiedName: z.string().min(1), kind: z.string() }))
          .optional(),
      }),
    )
    .min(1),
  partialFingerprints: z.record(z.string(), z.string().min(1)).optional(),
});

export const SarifLogSchema = z
  .object({
    $schema: z.url(),
    version: z.literal("2.1.0"),
    runs: z
      .array(
        z.object({
          tool: z.object({
            driver: z.object({
              name: z.string().min(1),
              version: z.string().optional(),
              rules: z.array(Rule),
            }),
          }),
          results: z.array(Result).max(25_000),
        }),
      )
      .length(1),
  })
  .superRefine((log, ctx) => {
    for (const run of log.runs) {
      const ids = run.tool.driver.rules.map((r) => r.id);
      if (new Set(ids).size !== ids.length)
        ctx.addIssue({ code: "custom", message: "rule ids are not unique" });
      run.results.forEach((r, i) => {
        if (run.tool.driver.rules[r.ruleIndex]?.id !== r.ruleId)
          ctx.addIssue({
            code: "custom",
            message: `result ${i}: ruleIndex ${r.ruleIndex} is not rule ${r.ruleId}`,
          });
      });
    }
  });
