// README's "Command line" table: each command once, every command of the CLI listed, and its links resolve.
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
