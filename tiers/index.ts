/**
 * tiers/: the model every other part reads — tier, phase, topology, monitoring and tool catalogs,
 * suite/contract/environment schemas, and the plan compiler. Pure data and functions: no Pulumi,
 * no I/O beyond reading YAML.
 */
export * from "./errors.js";
export * from "./units.js";
export * from "./config/issues.js";
export * from "./config/yaml-source.js";
export * from "./config/validate.js";
export * from "./schema/names.js";
export * from "./schema/catalog.js";
export * from "./schema/contract.js";
export * from "./schema/suite.js";
export * from "./catalog.js";
export * from "./contracts/compile.js";
export * from "./contracts/units.js";
export * from "./plan/schema.js";
export * from "./plan/options.js";
export * from "./plan/suite-file.js";
export * from "./plan/compile.js";
export * from "./plan/hash.js";
export * from "./plan/load.js";
export * from "./plan/gates.js";
export * from "./plan/random.js";
export * from "./infra/instance-types.js";
export * from "./infra/sizing.js";
export * from "./infra/workload-sizing.js";
export * from "./infra/image-ref.js";
export * from "./infra/identity.js";
export * from "./monitoring/index.js";
