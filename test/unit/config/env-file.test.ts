import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../../src/config";
import { parseEnvText, withEnvFile } from "../../../src/config/env-file";

const ROOT = join(__dirname, "../../..");
const dir = () => mkdtempSync(join(tmpdir(), "env-file-"));

describe("parseEnvText", () => {
  test("reads NAME=value lines the way a shell and docker compose do", () => {
    const { vars, problems } = parseEnvText(
      [
        "\uFEFF# a comment",
        "",
        "PLAIN=value",
        "EMPTY=",
        "export EXPORTED=yes",
        "SPACED = around  ",
        "TRAILING=bare # a comment",
        "HASH=a#b",
        "SINGLE='okta=tok;expires=2027-01-01'",
        "ROLE='Standard User' # comment",
        "DOLLAR='pa$$word'",
        'DOUBLE="line\\nnext \\"q\\" \\\\"',
        "EMPTYQ=''",
      ].join("\n"),
    );
    expect(problems).toEqual([]);
    expect(vars).toEqual({
      PLAIN: "value",
      EMPTY: "",
      EXPORTED: "yes",
      SPACED: "around",
      TRAILING: "bare",
      HASH: "a#b",
      SINGLE: "okta=tok;expires=2027-01-01",
      ROLE: "Standard User",
      DOLLAR: "pa$$word",
      DOUBLE: 'line\nnext "q" \\',
      EMPTYQ: "",
    });
  });

  test("names each line it cannot read, never quoting a value", () => {
    const { problems } = parseEnvText("OK=1\nnot a setting\nOPEN='s3cret\nAFTER='a'secret-tail\n");
    expect(problems).toEqual([
      "line 2: expected NAME=value",
      "line 3: OPEN: the single quote is not closed on this line",
      "line 4: AFTER: unexpected text after the closing quote",
    ]);
    expect(problems.join()).not.toMatch(/s3cret|secret-tail/);
  });
});

describe("withEnvFile", () => {
  test("./.env fills in what the environment leaves unset and never replaces what it sets, even empty", () => {
    const d = dir();
    writeFileSync(join(d, ".env"), "A='from file'\nB=from-file\nC=from-file\n");
    const r = withEnvFile({ B: "from env", C: "" }, d);
    expect(r.env).toEqual({ A: "from file", B: "from env", C: "" });
    expect(r.applied).toEqual(["A"]);
    expect(r.file).toBe(join(d, ".env"));
  });

  test("no ./.env and no ENV_FILE: the environment as it is", () => {
    const env = { X: "1" };
    expect(withEnvFile(env, dir())).toEqual({ env, applied: [] });
  });

  test("ENV_FILE names the file (relative to the working directory); a missing or bad one is a ConfigError naming ENV_FILE", () => {
    const d = dir();
    writeFileSync(join(d, "bridge.env"), "LOG_LEVEL=debug\n");
    writeFileSync(join(d, ".env"), "LOG_LEVEL=warn\n");
    expect(withEnvFile({ ENV_FILE: "bridge.env" }, d).env.LOG_LEVEL).toBe("debug");
    expect(() => withEnvFile({ ENV_FILE: "missing.env" }, d)).toThrow(ConfigError);
    expect(() => withEnvFile({ ENV_FILE: "missing.env" }, d)).toThrow(/ENV_FILE: cannot read .*missing\.env \(no such file\)/);
    writeFileSync(join(d, "bad.env"), "GOOD=1\noops\n");
    expect(() => withEnvFile({ ENV_FILE: "bad.env" }, d)).toThrow(/ENV_FILE: .*bad\.env line 2: expected NAME=value/);
  });
});

describe(".env.example", () => {
  const example = readFileSync(join(ROOT, ".env.example"), "utf8");
  const assigned = example
    .split("\n")
    .map((l) => /^([A-Z][A-Z0-9_]*)=/.exec(l)?.[1])
    .filter((k): k is string => !!k);

  test("every value survives `set -a; . ./.env.example` in bash, as the bridge reads it", () => {
    const out = execFileSync("bash", ["--norc", "--noprofile", "-c", "set -a; . ./.env.example; env -0"], { cwd: ROOT, env: { PATH: process.env.PATH }, encoding: "utf8" });
    const shell = Object.fromEntries(out.split("\0").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    const ours = parseEnvText(example);
    expect(ours.problems).toEqual([]);
    expect(assigned.length).toBeGreaterThan(40);
    for (const k of assigned) expect([k, shell[k]]).toEqual([k, ours.vars[k]]);
    expect(shell.SCIM_BEARER_TOKENS).toBe("<long-random-token>");
  });

  test("sourcing it prints nothing and runs nothing", () => {
    const r = spawnSync("bash", ["--norc", "--noprofile", "-c", "set -a; . ./.env.example"], { cwd: ROOT, env: { PATH: process.env.PATH }, encoding: "utf8" });
    expect({ status: r.status, stderr: r.stderr, stdout: r.stdout }).toEqual({ status: 0, stderr: "", stdout: "" });
  });
});
