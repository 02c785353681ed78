#!/usr/bin/env node
// The `orchestrator` CLI (the image's entry): registers tsx so the TypeScript sources run in place.
import { register } from "tsx/esm/api";

register();
await import("../workloads/orchestrator/main.ts");
