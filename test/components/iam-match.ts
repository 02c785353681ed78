/** IAM's wildcard match (`*` any run of characters, `?` one), for reading policy documents in tests. */
export function iamMatches(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );
  return re.test(value);
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Whether a statement allows `action` on `resource` (conditions on s3:prefix checked against `prefix` when given). */
export function allows(
  statements: readonly Statement[],
  action: string,
  resource: string,
  prefix?: string,
): boolean {
  return statements.some((s) => {
    if (s.Effect !== "Allow") return false;
    if (!list(s.Action).some((a) => iamMatches(a, action))) return false;
    if (!list(s.Resource).some((r) => iamMatches(r, resource))) return false;
    const like = s.Condition?.StringLike?.["s3:prefix"];
    if (like !== undefined) return prefix !== undefined && list(like).some((p) => iamMatches(p, prefix));
    return true;
  });
}
