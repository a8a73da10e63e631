// Reads a V8 .cpuprofile (node --cpu-prof) and says where the time went: self time per package or source area
// (node_modules/<pkg>, src/<dir>, node internals, GC) and the hottest functions.
import fs from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Where a function lives, coarsely: a package, a folder of this project, node internals, or V8 itself. */
export function areaOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === "(garbage collector)") return "(gc)";
    if (functionName === "(idle)" || functionName === "(program)" || functionName === "(root)") return functionName;
    return "(native)";
  }
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith("node:")) return "node:" + url.slice(5).split("/")[0];
  const own = /\/(dist\/)?(src|benchmarks|test)\/([^/]+)/.exec(url);
  if (own) return `${own[2]}/${own[3].replace(/\.(js|ts)$/, "")}`;
  return url;
}

export function summariseProfile(file: string, top = 15): string {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  if (profile.samples && profile.timeDeltas) {
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i];
      selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
    }
  } else {
    const per = (profile.endTime - profile.startTime) / Math.max(1, profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0));
    for (const n of profile.nodes) selfUs.set(n.id, (n.hitCount ?? 0) * per);
  }
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const { functionName, url, lineNumber } = n.callFrame;
    total += us;
    if (functionName === "(idle)") continue;
    busy += us;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + us);
    const key = `${functionName || "(anonymous)"} ${area}${url ? `:${lineNumber + 1}` : ""}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / Math.max(1, busy)).toFixed(1)} %`;
  const lines = [
    `busy ${(busy / 1e6).toFixed(1)} s of ${(total / 1e6).toFixed(1)} s sampled; self time by area (share of busy time):`,
    ...[...areas.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([a, us]) => `  ${pct(us).padStart(7)}  ${a}`),
    "hottest functions (self time):",
    ...[...functions.entries()].sort((a, b) => b[1] - a[1]).slice(0, top).map(([f, us]) => `  ${pct(us).padStart(7)}  ${f}`),
  ];
  return lines.join("\n");
}

if (require.main === module) {
  for (const f of process.argv.slice(2)) console.log(`${f}\n${summariseProfile(f, 25)}\n`);
}
