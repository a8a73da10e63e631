// 5. Memory: RSS of the bridge process with 100,000 users and 1,000 groups in SQLite and in PostgreSQL, after
// the read benchmark's load (measured there, in the bridge's own process: /proc/<pid>/status).
import { fmt, type Benchmark } from "./lib/context";
import type { MemorySample } from "./reads";

export const memory: Benchmark = {
  id: "memory",
  title: "5. Memory",
  budgetMs: () => 5_000,
  async run(ctx) {
    const samples = ctx.shared.get("reads.memory") as MemorySample[] | undefined;
    if (!samples?.length) throw new Error("no memory samples: the read benchmark did not run to its end (run it with --only reads,memory)");
    ctx.setup.push(
      "VmRSS of the bridge process (`node dist/src/main.js`) from /proc/<pid>/status, right after start and after the read benchmark's load; peak is VmHWM",
      `store: ${samples[0].users.toLocaleString("en-US")} users and ${samples[0].groups.toLocaleString("en-US")} groups`,
    );
    for (const s of samples) {
      const name = s.store === "sqlite" ? "SQLite" : "PostgreSQL";
      ctx.figure({
        id: `memory.${s.store}.rss`,
        label: `RSS after the reads, ${name}`,
        value: s.afterMb,
        unit: "MB",
        target: { op: "<", value: 300 },
        note: `${fmt(s.idleMb)} MB right after start; peak ${fmt(s.peakMb)} MB`,
      });
    }
  },
};
