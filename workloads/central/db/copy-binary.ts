import type { Sample } from "../../shared/cycle.js";

/**
 * PostgreSQL's binary COPY format for `samples` rows: a fixed header, then per row a field count
 * and each field as length + bytes in network order (int4 bundle_key, int4 seq, int8 ts_ms,
 * text phase or NULL, text series, float8 value), then a -1 trailer. No number is turned into
 * text on our side or parsed back on the server's, which is what lets an import with full
 * verification keep up with a plain-text COPY.
 */
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");

export function copyBinaryHeader(): Buffer {
  const header = Buffer.alloc(SIGNATURE.length + 8);
  SIGNATURE.copy(header, 0);
  // flags (int32 0) and header extension length (int32 0) are already zero.
  return header;
}

export function copyBinaryTrailer(): Buffer {
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1, 0);
  return trailer;
}

/** Encodes sample rows; text values are encoded once and reused (a bundle has few distinct names). */
export class SampleRowEncoder {
  private readonly texts = new Map<string, Buffer>();

  private text(value: string): Buffer {
    let bytes = this.texts.get(value);
    if (!bytes) this.texts.set(value, (bytes = Buffer.from(value, "utf8")));
    return bytes;
  }

  encode(bundleKey: number, firstSeq: number, samples: readonly Sample[]): Buffer {
    let size = 0;
    const phases = new Array<Buffer | null>(samples.length);
    const series = new Array<Buffer>(samples.length);
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      phases[i] = s.phase === null ? null : this.text(s.phase);
      series[i] = this.text(s.series);
      // field count + 6 lengths + int4 + int4 + int8 + texts + float8
      size += 2 + 6 * 4 + 4 + 4 + 8 + (phases[i]?.length ?? 0) + series[i]!.length + 8;
    }
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (let i = 0; i < samples.length; i++) {
      const s = samples[i]!;
      at = out.writeInt16BE(6, at);
      at = out.writeInt32BE(4, at);
      at = out.writeInt32BE(bundleKey, at);
      at = out.writeInt32BE(4, at);
      at = out.writeInt32BE(firstSeq + i, at);
      at = out.writeInt32BE(8, at);
      at = out.writeBigInt64BE(BigInt(s.ts_ms), at);
      const phase = phases[i];
      if (phase === null || phase === undefined) at = out.writeInt32BE(-1, at);
      else {
        at = out.writeInt32BE(phase.length, at);
        at += phase.copy(out, at);
      }
      const name = series[i]!;
      at = out.writeInt32BE(name.length, at);
      at += name.copy(out, at);
      at = out.writeInt32BE(8, at);
      at = out.writeDoubleBE(s.value, at);
    }
    return out;
  }
}
