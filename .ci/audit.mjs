// Supply-chain gate: fails on a high or critical advisory in the production dependencies (npm audit --omit=dev).
// When the advisory service cannot be reached (a registry mirror without the audit endpoint, no network), that is
// said loudly and the run goes on: the gate cannot judge, and the lockfile still pins every version.
import { spawnSync } from "node:child_process";

const run = spawnSync("npm", ["audit", "--omit=dev", "--json"], { encoding: "utf8", timeout: 120_000 });
let report;
try {
  report = JSON.parse(run.stdout || "{}");
} catch {
  report = {};
}
const counts = report.metadata?.vulnerabilities;
if (!counts) {
  const why = report.message ?? report.error?.summary ?? (run.stderr || "").split("\n").find((l) => l.includes("error")) ?? "no report";
  console.log(`WARNING: npm audit could not reach the advisory service (${String(why).trim()}); supply-chain check skipped`);
  process.exit(0);
}
const serious = (counts.high ?? 0) + (counts.critical ?? 0);
console.log(`npm audit --omit=dev: ${JSON.stringify(counts)}`);
if (serious > 0) {
  for (const [name, v] of Object.entries(report.vulnerabilities ?? {})) {
    if (v.severity === "high" || v.severity === "critical") console.log(`  ${v.severity}: ${name} ${v.range ?? ""}`);
  }
  console.log("FAILED: high or critical advisories in production dependencies");
  process.exit(1);
}
