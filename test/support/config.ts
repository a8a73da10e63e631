import { ConfigError, loadConfig } from "../../src/config";

/** The problems loadConfig reports for `env`; fails the test when the config is accepted. */
export function configProblems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}
