// The `.env` file the bridge and `digicert-scim` read themselves: ENV_FILE names it; unset, `./.env` is read when it
// exists. Its variables fill in what the real environment leaves unset, never replace what it sets (an empty value
// set in the environment counts as set). A file that does not parse stops the start naming ENV_FILE and the line.
//
// The parser is behind `parse` below so another (dotenv's `parse`, which has the same signature for valid files) can
// be swapped in on one line.
import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "./index";

export interface ParsedEnvFile {
  vars: Record<string, string>;
  /** "line N: …" for each line that is not a comment, a blank or NAME=value. */
  problems: string[];
}

/**
 * The subset of the dotenv format a shell and docker compose read alike: `NAME=value` (optionally `export NAME=…`),
 * `#` comment lines, values in single quotes (taken as they are), in double quotes (with \n, \t, \", \\ escapes, no
 * `$` expansion), or bare (trimmed; a ` #` starts a comment). One value per line.
 */
export function parseEnvText(text: string): ParsedEnvFile {
  const vars: Record<string, string> = {};
  const problems: string[] = [];
  text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .forEach((raw, i) => {
      const n = i + 1;
      const line = raw.trim();
      if (!line || line.startsWith("#")) return;
      const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
      if (!m) {
        problems.push(`line ${n}: expected NAME=value`);
        return;
      }
      const [, name, rest] = m;
      const value = valueOf(rest);
      if (typeof value === "string") vars[name] = value;
      else problems.push(`line ${n}: ${name}: ${value.problem}`);
    });
  return { vars, problems };
}

function valueOf(rest: string): string | { problem: string } {
  const q = rest[0];
  if (q === "'" || q === '"') {
    let out = "";
    let i = 1;
    for (; i < rest.length && rest[i] !== q; i++) {
      if (q === '"' && rest[i] === "\\" && i + 1 < rest.length) {
        const c = rest[++i];
        out += c === "n" ? "\n" : c === "t" ? "\t" : c === "r" ? "\r" : c;
      } else out += rest[i];
    }
    if (i >= rest.length) return { problem: `the ${q === "'" ? "single" : "double"} quote is not closed on this line` };
    const after = rest.slice(i + 1).trim();
    // Not quoted back: the value may be a secret.
    if (after && !after.startsWith("#")) return { problem: "unexpected text after the closing quote" };
    return out;
  }
  return rest.replace(/(^|\s)#.*$/, "").trim();
}

/** The parser in use: returns the variables of a file's text, throws on a file it cannot read. */
export type EnvParser = (text: string) => ParsedEnvFile;
const parse: EnvParser = parseEnvText;

export interface EnvFileResult {
  env: NodeJS.ProcessEnv;
  /** The file read, if any. */
  file?: string;
  /** Variables taken from the file (those the environment did not set). */
  applied: string[];
}

/**
 * `env` with the variables of ENV_FILE (or `./.env` in `cwd` when ENV_FILE is unset and the file exists) added where
 * `env` has none. Throws ConfigError naming ENV_FILE when the file named cannot be read or does not parse.
 */
export function withEnvFile(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): EnvFileResult {
  const named = env.ENV_FILE?.trim();
  const file = named ? path.resolve(cwd, named) : path.join(cwd, ".env");
  if (!named && !fs.existsSync(file)) return { env, applied: [] };
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : (err as Error).message;
    throw new ConfigError([`ENV_FILE: cannot read ${file} (${why})`]);
  }
  const { vars, problems } = parse(text);
  if (problems.length) throw new ConfigError(problems.map((p) => `ENV_FILE: ${file} ${p}`));
  const applied = Object.keys(vars).filter((k) => env[k] === undefined);
  return { env: { ...env, ...Object.fromEntries(applied.map((k) => [k, vars[k]])) }, file, applied };
}

/**
 * For the entry points (`npm start`, `digicert-scim`): the process environment with ENV_FILE's variables, or null
 * after writing why the file cannot be used (the caller exits 1).
 */
export function processEnvWithFile(stderr: { write(s: string): unknown }, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv | null {
  try {
    return withEnvFile(env).env;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    stderr.write(`${err.message}\nSee README.md, section Configuration.\n`);
    return null;
  }
}
