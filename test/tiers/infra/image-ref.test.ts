import { describe, expect, it } from "vitest";
import { imagePinProblem, parseImageRef } from "../../../tiers/infra/image-ref.js";

const DIGEST = `sha256:${"a".repeat(64)}`;

describe("parseImageRef", () => {
  it.each([
    [
      "ghcr.io/test-tiers/orchestrator:0.1.0",
      { repository: "ghcr.io/test-tiers/orchestrator", tag: "0.1.0" },
    ],
    ["localhost:5000/sut:1.2", { repository: "localhost:5000/sut", tag: "1.2" }],
    ["localhost:5000/sut", { repository: "localhost:5000/sut" }],
    ["registry:5000/team/sut:1", { repository: "registry:5000/team/sut", tag: "1" }],
    [`busybox@${DIGEST}`, { repository: "busybox", digest: DIGEST }],
    [`r.io/a/b:v1@${DIGEST}`, { repository: "r.io/a/b", tag: "v1", digest: DIGEST }],
    ["UPPER/case:1", undefined],
    ["", undefined],
    [" busybox:1", undefined],
    ["busybox:", undefined],
  ])("%j", (ref, expected) => expect(parseImageRef(ref)).toStrictEqual(expected));
});

describe("imagePinProblem", () => {
  it.each([
    ["ghcr.io/test-tiers/orchestrator:0.1.0", undefined],
    [`busybox@${DIGEST}`, undefined],
    [`busybox:latest@${DIGEST}`, undefined],
    ["busybox:latest", "uses the latest tag, which is not a pinned version"],
    ["ghcr.io/test-tiers/sut", "has no tag or digest, so it follows whatever is pushed last"],
    ["localhost:5000/sut", "has no tag or digest, so it follows whatever is pushed last"],
    ["not an image", "is not an image reference"],
  ])("%j", (ref, expected) => expect(imagePinProblem(ref)).toBe(expected));
});
