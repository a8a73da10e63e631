import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Writes a role mapping file to a fresh temp directory and returns its path. */
export function writeMapping(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "mapping-")), "roles.yaml");
  writeFileSync(file, text);
  return file;
}
