// README's "Command line" table: each command once, every command of the CLI listed, and its links resolve; every
// internal link of the README resolves, and its table of contents links every ## section.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../../src/cli";

const readme = readFileSync(join(__dirname, "../../README.md"), "utf8");

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** The README's headings outside code blocks, as GitHub anchors them: repeated headings get -1, -2… */
function headingAnchors(): { anchors: Set<string>; sections: string[] } {
  const anchors = new Set<string>();
  const sections: string[] = [];
  const seen = new Map<string, number>();
  let inCode = false;
  for (const line of readme.split("\n")) {
    if (/^\s*```/.test(line)) inCode = !inCode;
    const m = inCode ? null : /^(#{1,6}) (.*)$/.exec(line);
    if (!m) continue;
    const base = slug(m[2]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    const anchor = n ? `${base}-${n}` : base;
    anchors.add(anchor);
    if (m[1] === "##") sections.push(anchor);
  }
  return { anchors, sections };
}

function commandTable(): string[] {
  const section = readme.slice(readme.indexOf("\n## Command line"), readme.indexOf("\n## ", readme.indexOf("\n## Command line") + 5));
  return section.split("\n").filter((l) => l.startsWith("| `"));
}

describe("README command table", () => {
  it("lists each command once", () => {
    const firstWords = commandTable().map((row) => /^\| `([a-z]+)/.exec(row)![1]);
    expect(firstWords.length).toBeGreaterThan(5);
    expect(new Set(firstWords).size).toBe(firstWords.length);
  });

  it("lists every command the CLI has", async () => {
    const out = { text: "", write(s: string) { this.text += s; } };
    await runCli(["--help"], { env: {}, stdout: out, stderr: out });
    const commands = [...out.text.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]).filter((c) => c !== "help");
    const listed = new Set(commandTable().map((row) => /^\| `([a-z]+)/.exec(row)![1]));
    expect(commands.length).toBeGreaterThan(5);
    for (const c of commands) expect(listed).toContain(c);
  });

  it("has cross-references that resolve to headings of the README", () => {
    const anchors = new Set(readme.split("\n").filter((l) => /^#{1,6} /.test(l)).map((l) => slug(l.replace(/^#+ /, ""))));
    const links = commandTable().flatMap((row) => [...row.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]));
    expect(links.length).toBeGreaterThan(3);
    for (const l of links) expect(anchors).toContain(l);
    // No bare "(see "X")" left: those are not links.
    for (const row of commandTable()) expect(row).not.toMatch(/see "[^"]+"\)/);
  });
});

describe("README links", () => {
  it("has internal links that all resolve to a heading", () => {
    const { anchors } = headingAnchors();
    const links = [...readme.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(20);
    expect(links.filter((l) => !anchors.has(l))).toEqual([]);
  });

  it("has a table of contents that links every ## section", () => {
    const start = readme.indexOf("\n## Contents");
    expect(start).toBeGreaterThan(0);
    const toc = readme.slice(start, readme.indexOf("\n## ", start + 5));
    const linked = new Set([...toc.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]));
    const { sections } = headingAnchors();
    expect(sections.filter((a) => a !== "contents" && !linked.has(a))).toEqual([]);
  });
});
