import type { StackValidationPolicy } from "@pulumi/policy";
import { ANNOTATIONS, parseEphemeralStack, parseExpiry, TAGS } from "../../tiers/infra/identity.js";
import { AWS_PROVIDER_TYPE, providerDefaultTags } from "../lib/aws.js";
import { environmentNamespaces, metadataOf } from "../lib/kubernetes.js";
import { stackOf } from "../lib/urn.js";

interface Config {
  readonly maxLifetimeHours: number;
}

/**
 * The longest an ephemeral stack may live unless the pack's config says otherwise; the runner's
 * `--ttl` limit (runners/cluster/stack-names.ts) is this value.
 */
export const DEFAULT_MAX_LIFETIME_HOURS = 24;

const HOUR = 3_600_000;
const FIX = "set test-tiers:expiresAt in the stack config";

export const ephemeralExpiry: StackValidationPolicy = {
  name: "ephemeral-expiry",
  description:
    "An ephemeral stack (<tier>-<yyyymmdd>-<hhmm>) says when it expires, after its creation and within the allowed lifetime, on every AWS provider (tag test-tiers:expires-at, inherited by every resource) and environment namespace (annotation test-tiers/expires-at), so the reaper can destroy it.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      maxLifetimeHours: {
        type: "integer",
        minimum: 1,
        default: DEFAULT_MAX_LIFETIME_HOURS,
        description: "Longest an ephemeral stack may live, from the time in its name to its expiry.",
      },
    },
  },
  validateStack: (args, reportViolation) => {
    const stack = stackOf(args.resources) ?? "";
    const ephemeral = parseEphemeralStack(stack);
    if (!ephemeral) return args.notApplicable(`${stack} is not an ephemeral stack`);
    const { maxLifetimeHours } = args.getConfig<Config>();
    const created = ephemeral.createdAt.toISOString().replace(":00.000Z", "Z");
    // What carries the expiry: the region providers (their defaultTags reach every AWS resource)
    // and the environment namespaces.
    const carriers = [
      ...args.resources
        .filter((r) => r.type === AWS_PROVIDER_TYPE)
        .map((p) => ({
          what: `AWS provider ${p.name}`,
          urn: p.urn,
          value: providerDefaultTags(p)[TAGS.expiresAt],
        })),
      ...[...environmentNamespaces(args.resources)].map(([name, ns]) => ({
        what: `namespace ${name}`,
        urn: ns.urn,
        value: metadataOf(ns.props, ns.name).annotations[ANNOTATIONS.expiresAt],
      })),
    ];
    if (carriers.every((c) => c.value === undefined)) {
      // One missing config key, reported once for the stack rather than on each carrier.
      reportViolation(`ephemeral stack ${stack} has no expiry; ${FIX}`);
      return;
    }
    for (const c of carriers) {
      const expiry = c.value !== undefined ? parseExpiry(c.value) : undefined;
      let problem: string | undefined;
      if (c.value === undefined) problem = "has no expiry";
      else if (!expiry) problem = `has expiry ${JSON.stringify(c.value)}, which is not an ISO 8601 UTC time`;
      else if (expiry <= ephemeral.createdAt)
        problem = `expires at ${c.value}, not after the stack's creation (${created})`;
      else if (expiry.getTime() - ephemeral.createdAt.getTime() > maxLifetimeHours * HOUR)
        problem = `expires at ${c.value}, more than ${maxLifetimeHours} h after the stack's creation (${created})`;
      if (problem) reportViolation(`ephemeral stack ${stack}: ${c.what} ${problem}; ${FIX}`, c.urn);
    }
  },
};
