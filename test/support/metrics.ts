// Reads the Prometheus text exposition format (what GET /metrics answers) into numbers a test can compare.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  /** The value of the one sample with this name and exactly these labels; undefined when there is none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of a metric, as `{label=value,…} → value` with labels sorted, for whole-table comparisons. */
  table(name: string): Record<string, number>;
  /** Metric names that have a # TYPE line. */
  names(): string[];
}

function labelKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}

export function parseMetrics(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Set<string>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) /.exec(line);
    if (type) types.add(type[1]);
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]] = l[2].replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return {
    samples,
    value(name, labels = {}) {
      const key = labelKey(labels);
      return samples.find((s) => s.name === name && labelKey(s.labels) === key)?.value;
    },
    table(name) {
      const out: Record<string, number> = {};
      for (const s of samples) if (s.name === name) out[`{${labelKey(s.labels)}}`] = s.value;
      return out;
    },
    names: () => [...types],
  };
}
