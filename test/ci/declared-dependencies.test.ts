/**
 * Every package a file imports is declared by the package the file belongs to (the nearest
 * package.json: the root, or `policies/` for the pack) — not merely found because npm hoisted it
 * there for another package. Code that runs (not tests, benchmarks or tool config) may import
 * only `dependencies` and `optionalDependencies` at run time; type-only imports and tests may use
 * `devDependencies` too.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/cli.js";

interface Manifest {
  readonly name: string;
  readonly engines?: { readonly node?: string };
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

const SKIP = new Set(["node_modules", "dist", ".git", "out", ".tiers"]);
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return SOURCE.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Each bare module specifier a file imports, and whether only its types are. */
function importsOf(file: string): { specifier: string; typeOnly: boolean }[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const out: { specifier: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      out.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      out.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.arguments.length > 0 &&
      ts.isStringLiteral(node.arguments[0]!)
    ) {
      const callee = node.expression;
      const dynamic = callee.kind === ts.SyntaxKind.ImportKeyword;
      const required = ts.isIdentifier(callee) && callee.text === "require";
      const resolved =
        ts.isPropertyAccessExpression(callee) &&
        callee.name.text === "resolve" &&
        ts.isMetaProperty(callee.expression);
      if (dynamic || required || resolved) out.push({ specifier: node.arguments[0].text, typeOnly: false });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      out.push({ specifier: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out.filter((i) => !i.specifier.startsWith(".") && !i.specifier.startsWith("/"));
}

const packageOf = (specifier: string) =>
  specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!;
const BUILTINS = new Set(builtinModules);
const isBuiltin = (s: string) => s.startsWith("node:") || BUILTINS.has(packageOf(s));

/** The directory of the package.json a file belongs to. */
function ownerOf(file: string): string {
  for (let dir = dirname(file); dir.startsWith(REPO_ROOT.replace(/\/$/, "")); dir = dirname(dir)) {
    try {
      statSync(join(dir, "package.json"));
      return dir;
    } catch {
      // keep going up
    }
  }
  throw new Error(`${file} belongs to no package`);
}

/** Tests, benchmarks and tool configuration: may use devDependencies at run time. */
const isDevFile = (rel: string) => rel.startsWith("test/") || /^[^/]+\.config\.[cm]?[jt]s$/.test(rel);

const manifests = new Map<string, Manifest>();
const manifestOf = (dir: string): Manifest => {
  if (!manifests.has(dir))
    manifests.set(dir, JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest);
  return manifests.get(dir)!;
};

describe("dependencies", () => {
  it("every import is declared by the package that imports it", () => {
    const problems: string[] = [];
    for (const file of sourceFiles(REPO_ROOT)) {
      const rel = relative(REPO_ROOT, file);
      const owner = ownerOf(file);
      const m = manifestOf(owner);
      const runtime = { ...m.dependencies, ...m.optionalDependencies, ...m.peerDependencies };
      const dev = m.devDependencies ?? {};
      for (const { specifier, typeOnly } of importsOf(file)) {
        if (isBuiltin(specifier) || specifier.startsWith("${")) continue;
        const pkg = packageOf(specifier);
        if (pkg === m.name || pkg in runtime) continue;
        if (pkg in dev) {
          if (typeOnly || isDevFile(rel)) continue;
          problems.push(
            `${rel}: imports ${pkg} at run time, which ${m.name} declares only as a devDependency`,
          );
        } else
          problems.push(
            `${rel}: imports ${pkg}, which ${m.name} (${relative(REPO_ROOT, owner) || "."}/package.json) does not declare`,
          );
      }
    }
    expect(problems).toStrictEqual([]);
  });

  it("states the Node version the code needs: zlib.crc32 (the bundle seal) is Node 20.15+", () => {
    for (const dir of [REPO_ROOT, join(REPO_ROOT, "policies")])
      expect(manifestOf(dir).engines?.node).toBe(">=20.15");
  });
});
