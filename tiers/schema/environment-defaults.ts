import { z } from "zod";
import { EnvironmentSpec } from "./suite.js";

export const EnvironmentDefaultsFile = z.strictObject({
  environment_defaults: z.strictObject({
    type: z.literal("isolated"),
    max_parallel: z.number().int().min(1).max(64),
    resources: EnvironmentSpec.shape.resources.unwrap(),
    storage: z.strictObject({ format: z.literal("sqlite") }),
  }),
});
export type EnvironmentDefaults = z.infer<typeof EnvironmentDefaultsFile>["environment_defaults"];
