import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ROOT_HELP_AFTER } from "../../../src/cli/program";
import { envSchema } from "../../../src/config/env";
import { FILE_SECRET_VARIABLES } from "../../../src/config/file-secrets";
import { readmeVariables, ROOT } from "./chart-support";

// docs/runbooks: the commands, options, variables and files they name are the project's own.

const DOCS = join(ROOT, "docs", "runbooks");
const runbooks = readdirSync(DOCS).filter((f) => f.endsWith(".md"));
const text = (file: string) => readFileSync(join(DOCS, file), "utf8");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");

/** `digicert-scim` commands and, per command, the subcommands and options its help lists. */
function cliGrammar(): Map<string, { subs: Set<string>; flags: Set<string> }> {
  const grammar = new Map<string, { subs: Set<string>; flags: Set<string> }>();
  for (const line of ROOT_HELP_AFTER.split("\n")) {
    const m = /^ {2}([a-z]+)((?: [a-z]+)?)(.*)$/.exec(line);
    if (!m) continue;
    const entry = grammar.get(m[1]) ?? { subs: new Set<string>(), flags: new Set<string>() };
    if (m[2]) entry.subs.add(m[2].trim());
    for (const f of `${m[2]}${m[3]}`.matchAll(/--[a-z]+/g)) entry.flags.add(f[0]);
    grammar.set(m[1], entry);
  }
  return grammar;
}

describe("docs/runbooks", () => {
  it("has the five runbooks and an index linking them", () => {
    expect(runbooks.sort()).toEqual(
      ["README.md", "backup-and-restore.md", "disaster-recovery.md", "rotating-secrets.md", "sizing.md", "sqlite-to-postgresql.md"].sort(),
    );
    for (const f of runbooks.filter((f) => f !== "README.md")) expect(text("README.md")).toContain(`](${f})`);
  });

  it("is linked from README.md", () => {
    for (const f of runbooks.filter((f) => f !== "README.md")) expect(readme).toContain(`](docs/runbooks/${f})`);
  });

  it.each(runbooks)("%s: every digicert-scim command, subcommand and option exists", (file) => {
    const grammar = cliGrammar();
    const problems: string[] = [];
    for (const m of text(file).matchAll(/(?<!-n )digicert-scim ([a-z]+)((?: [a-z]+)?)([^`\n|)]*)/g)) {
      const entry = grammar.get(m[1]);
      if (!entry) {
        problems.push(`unknown command: ${m[0]}`);
        continue;
      }
      const sub = m[2].trim();
      const knownSubs = new Set([...grammar.values()].flatMap((e) => [...e.subs]));
      if (sub && knownSubs.has(sub) && !entry.subs.has(sub)) problems.push(`unknown subcommand: ${m[0]}`);
      for (const f of m[3].matchAll(/--[a-z]+/g)) if (!entry.flags.has(f[0])) problems.push(`unknown option ${f[0]}: ${m[0]}`);
    }
    expect(problems).toEqual([]);
  });

  it.each(runbooks)("%s: every variable it names is one the bridge reads (README's table)", (file) => {
    const documented = readmeVariables(readme);
    const known = (name: string) =>
      documented.has(name) ||
      name === "NODE_OPTIONS" ||
      name === "NAME_FILE" ||
      (name.endsWith("_FILE") && (FILE_SECRET_VARIABLES as readonly string[]).includes(name.slice(0, -5)));
    const named = [...text(file).matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?=[=`;\s])/g)].map((m) => m[1]);
    if (file !== "README.md") expect(named.length).toBeGreaterThan(0);
    expect([...new Set(named)].filter((n) => !known(n))).toEqual([]);
    for (const n of named.filter((n) => documented.has(n))) expect(Object.keys(envSchema.shape)).toContain(n);
  });

  it.each(runbooks)("%s: every file and link it names exists", (file) => {
    const src = text(file);
    const missing: string[] = [];
    for (const m of src.matchAll(/\]\(([^)#\s]+)\)/g)) if (!/^https?:/.test(m[1]) && !existsSync(join(DOCS, m[1]))) missing.push(m[1]);
    for (const m of src.matchAll(/`((?:src|test|benchmarks|deploy|docs)\/[\w./-]+)`/g)) {
      if (!existsSync(join(ROOT, m[1].replace(/\/$/, "")))) missing.push(m[1]);
    }
    for (const m of src.matchAll(/`([\w-]+\.md)`/g)) {
      if (!existsSync(join(DOCS, m[1])) && !existsSync(join(ROOT, m[1])) && !existsSync(join(dirname(DOCS), m[1]))) missing.push(m[1]);
    }
    expect(missing).toEqual([]);
  });
});
