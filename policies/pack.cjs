/**
 * What Pulumi loads. Its Node policy-pack loader (@pulumi/pulumi/cmd/run-policy-pack) `require()`s
 * this package's `main` and awaits the function it exports. It does not honour PulumiPolicy.yaml's
 * `nodeargs` (they land after its script, not before) and always registers ts-node (pulumi/pulumi#4830),
 * so this CommonJS file registers tsx's ESM loader itself and imports the TypeScript entry, the way
 * bin/tiers.js starts the CLI. See docs/architecture.md, "Policy as code".
 */
module.exports = async function loadPolicyPack() {
  const { register } = await import("tsx/esm/api");
  register();
  await import("./index.ts");
};
