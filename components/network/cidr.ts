/** IPv4 CIDR arithmetic for subnet layout. Pure. */

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefix: number;
}

/** Parses `a.b.c.d/p`; `undefined` unless it is a well-formed, aligned IPv4 network. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  if (base % size(prefix) !== 0) return undefined;
  return { base, prefix };
}

export function formatCidr(c: Cidr): string {
  const o = [24, 16, 8, 0].map((shift) => Math.floor(c.base / 2 ** shift) % 256);
  return `${o.join(".")}/${c.prefix}`;
}

/** Number of addresses in a network of `prefix`. */
export function size(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** Terraform's cidrsubnet: the `netnum`-th network of `newbits` more bits inside `c`. */
export function subnet(c: Cidr, newbits: number, netnum: number): Cidr {
  const prefix = c.prefix + newbits;
  if (prefix > 32 || netnum < 0 || netnum >= 2 ** newbits) {
    throw new RangeError(`no subnet ${netnum} of /${prefix} in ${formatCidr(c)}`);
  }
  return { base: c.base + netnum * size(prefix), prefix };
}

export function contains(outer: Cidr, inner: Cidr): boolean {
  return (
    inner.prefix >= outer.prefix &&
    inner.base >= outer.base &&
    inner.base + size(inner.prefix) <= outer.base + size(outer.prefix)
  );
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + size(b.prefix) && b.base < a.base + size(a.prefix);
}

/**
 * The VPC CIDR of the `index`-th region of a tier: the `index`-th network of the same size after
 * `base` (10.40.0.0/16 → 10.40.0.0/16, 10.41.0.0/16, 10.42.0.0/16), so peered VPCs never overlap.
 */
export function regionCidr(base: string, index: number): string {
  const c = parseCidr(base);
  if (!c) throw new RangeError(`not an aligned IPv4 network: ${base}`);
  const next = c.base + index * size(c.prefix);
  if (index < 0 || next + size(c.prefix) > 2 ** 32) {
    throw new RangeError(`no region network ${index} after ${base}`);
  }
  return formatCidr({ base: next, prefix: c.prefix });
}
