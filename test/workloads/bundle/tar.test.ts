import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BLOCK,
  checksumOf,
  decodeTarHeader,
  encodeTarHeader,
  TarFormatError,
} from "../../../workloads/bundle/tar.js";

const segment = fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/).filter((s) => s !== "." && s !== "..");

describe("ustar header codec", () => {
  it("decodes what it encodes, for any plain path, size and mtime", () => {
    fc.assert(
      fc.property(
        fc.array(segment, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 0, max: 8 ** 11 - 1 }),
        fc.integer({ min: 0, max: 2 ** 33 - 1 }),
        (segments, size, mtime) => {
          const path = segments.join("/");
          const header = decodeTarHeader(encodeTarHeader({ path, size, mtime }));
          expect(header).toStrictEqual({ path, size, mode: 0o644, mtime, typeflag: "0", linkname: "" });
        },
      ),
    );
  });

  it("splits a path longer than 100 bytes into prefix and name", () => {
    const path = `raw/${"d".repeat(120)}/${"f".repeat(90)}.stdout`;
    const block = encodeTarHeader({ path, size: 1, mtime: 0 });
    expect(
      block
        .subarray(345, 345 + 125)
        .toString("latin1")
        .replace(/\0+$/, ""),
    ).toBe(`raw/${"d".repeat(120)}`);
    expect(decodeTarHeader(block).path).toBe(path);
  });

  it.each([
    ["a name segment over 100 bytes", "x".repeat(101)],
    ["a path over 255 bytes", Array.from({ length: 30 }, () => "abcdefghi").join("/")],
  ])("refuses %s", (_what, path) => {
    expect(() => encodeTarHeader({ path, size: 0, mtime: 0 })).toThrow(TarFormatError);
  });

  it("writes the checksum tar(1) expects: sum of the bytes with the field as spaces", () => {
    const block = encodeTarHeader({ path: "manifest.json", size: 10, mtime: 1 });
    expect(parseInt(block.subarray(148, 154).toString("latin1"), 8)).toBe(checksumOf(block));
    expect(block.length).toBe(BLOCK);
  });

  it.each<[string, (b: Buffer) => void, string]>([
    ["a flipped byte", (b) => void (b[10] = b[10]! ^ 0x01), "header checksum does not match"],
    [
      "GNU magic",
      (b) => {
        b.write("ustar  \0", 257, "latin1");
        b.write(`${checksumOf(b).toString(8).padStart(6, "0")}\0 `, 148, "latin1");
      },
      'not a POSIX ustar header (magic "ustar  \\u0000")',
    ],
    [
      "a size that is not octal",
      (b) => {
        b.write("0000000009x\0", 124, "latin1");
        b.write(`${checksumOf(b).toString(8).padStart(6, "0")}\0 `, 148, "latin1");
      },
      'size is not an octal number ("0000000009x")',
    ],
  ])("refuses a header with %s", (_what, damage, message) => {
    const block = encodeTarHeader({ path: "cycle.json", size: 5, mtime: 0 });
    damage(block);
    expect(() => decodeTarHeader(block)).toThrow(message);
  });
});
