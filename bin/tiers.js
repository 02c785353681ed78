#!/usr/bin/env node
// The `tiers` CLI: registers tsx so the TypeScript sources run in place, then hands over.
import { register } from "tsx/esm/api";

register();
await import("../runners/cli/main.ts");
