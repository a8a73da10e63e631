// What every `digicert-scim` command shares: its output streams and how it reports a configuration it cannot use.
import { ConfigError, loadConfig, type AppConfig } from "../config";

export interface Output {
  write(chunk: string): unknown;
}

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: Output;
  stderr: Output;
}

export const line = (out: Output, s = "") => out.write(`${s}\n`);

/** The configuration, or null after printing why there is none (the caller exits 1). */
export function configOrReport(env: NodeJS.ProcessEnv, stderr: Output): AppConfig | null {
  try {
    return loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    line(stderr, err.message);
    return null;
  }
}
