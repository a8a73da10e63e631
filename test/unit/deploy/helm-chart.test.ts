import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { FILE_SECRET_VARIABLES } from "../../../src/config/file-secrets";
import type { ClosableDigiCertClient } from "../../../src/digicert";
import { DigiCertError } from "../../../src/digicert/errors";
import { readinessProbe } from "../../../src/http/health";
import { createMetrics } from "../../../src/http/metrics";
import { bridgeReadinessChecks } from "../../../src/http/readiness-checks";
import type { Logger } from "../../../src/log/logger";
import { pathExists, readmeAlerts, readmeVariables, ROOT, skeleton, templateActions, valuesPaths } from "./chart-support";

// deploy/helm/digicert-scim-bridge, checked without helm (not installable here): the files parse, the Go-template
// actions balance, every .Values path a template reads exists, the chart sets only variables the README documents,
// the probes and the alerts are the README's. `helm lint` / `helm template` are in the chart's README for those who
// have helm.

const CHART = join(ROOT, "deploy", "helm", "digicert-scim-bridge");
const TEMPLATES = join(CHART, "templates");

type Obj = Record<string, any>;

const chart: Obj = parse(readFileSync(join(CHART, "Chart.yaml"), "utf8"));
const values: Obj = parse(readFileSync(join(CHART, "values.yaml"), "utf8"));
const templateFiles = readdirSync(TEMPLATES).filter((f) => /\.(ya?ml|tpl|txt)$/.test(f));
const source = (file: string) => readFileSync(join(TEMPLATES, file), "utf8");
const manifests = templateFiles.filter((f) => /\.ya?ml$/.test(f));
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const chartReadme = readFileSync(join(CHART, "README.md"), "utf8");
const packageJson = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));

describe("Chart.yaml and values.yaml", () => {
  it("parse, name the chart and carry the package's version as appVersion", () => {
    expect(chart.apiVersion).toBe("v2");
    expect(chart.name).toBe("digicert-scim-bridge");
    expect(chart.type).toBe("application");
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(String(chart.appVersion)).toBe(packageJson.version);
  });

  it("has no chart dependencies (it must render offline)", () => {
    expect(chart.dependencies ?? []).toEqual([]);
    expect(readdirSync(CHART)).not.toContain("requirements.yaml");
    expect(readdirSync(CHART)).not.toContain("charts");
  });

  it("has the expected templates", () => {
    expect(templateFiles.sort()).toEqual(
      expect.arrayContaining([
        "_helpers.tpl",
        "NOTES.txt",
        "configmap.yaml",
        "deployment.yaml",
        "ingress.yaml",
        "networkpolicy.yaml",
        "pdb.yaml",
        "postgresql.yaml",
        "prometheusrule.yaml",
        "redis.yaml",
        "role-mapping.yaml",
        "secret.yaml",
        "service.yaml",
        "servicemonitor.yaml",
      ]),
    );
  });

  it("defaults to a working multi-replica bridge: two replicas, bundled PostgreSQL and Redis, no SQLite", () => {
    expect(values.replicaCount).toBeGreaterThanOrEqual(2);
    expect(values.postgresql.enabled).toBe(true);
    expect(values.redis.enabled).toBe(true);
    expect(values.sqlite.enabled).toBe(false);
    expect(values.podDisruptionBudget).toEqual({ enabled: true, minAvailable: 1 });
    expect(values.networkPolicy.enabled).toBe(true);
  });

  it("has a secretEnv entry (value, existingSecret, existingSecretKey) for every secret variable the bridge reads", () => {
    expect(Object.keys(values.secretEnv).sort()).toEqual([...FILE_SECRET_VARIABLES].sort());
    for (const entry of Object.values<Obj>(values.secretEnv)) {
      expect(entry).toEqual({ value: "", existingSecret: "", existingSecretKey: "" });
    }
  });

  it("runs locked down: non-root, read-only root filesystem, no capabilities", () => {
    expect(values.podSecurityContext).toEqual(expect.objectContaining({ runAsNonRoot: true, runAsUser: 1000 }));
    expect(values.securityContext).toEqual(
      expect.objectContaining({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } }),
    );
  });
});

describe("templates", () => {
  it.each(templateFiles)("%s: every {{ if/range/with/define/block }} has its {{ end }}, and else sits inside one", (file) => {
    const problems: string[] = [];
    const stack: { keyword: string; line: number }[] = [];
    for (const { body, line } of templateActions(source(file))) {
      const keyword = /^(\w+)/.exec(body)?.[1];
      if (keyword && ["if", "range", "with", "define", "block"].includes(keyword)) {
        if (keyword === "define" && stack.length) problems.push(`line ${line}: define inside ${stack[stack.length - 1].keyword}`);
        stack.push({ keyword, line });
      } else if (keyword === "else") {
        if (!stack.length || !["if", "range", "with"].includes(stack[stack.length - 1].keyword)) problems.push(`line ${line}: else outside if/range/with`);
      } else if (keyword === "end") {
        if (!stack.pop()) problems.push(`line ${line}: end without an opening action`);
      }
    }
    for (const open of stack) problems.push(`line ${open.line}: ${open.keyword} without end`);
    expect(problems).toEqual([]);
  });

  it.each(templateFiles)("%s: every .Values path it reads exists in values.yaml", (file) => {
    const missing = valuesPaths(source(file)).filter(({ path }) => !pathExists(values, path));
    expect(missing.map((m) => `line ${m.line}: .Values.${m.path.join(".")}`)).toEqual([]);
  });

  it("reads every top-level value somewhere", () => {
    const used = new Set(templateFiles.flatMap((f) => valuesPaths(source(f)).map((p) => p.path[0])));
    expect(Object.keys(values).filter((k) => !used.has(k))).toEqual([]);
  });

  it.each(manifests)("%s: its YAML skeleton (actions taken out) parses", (file) => {
    const docs = parseAllDocuments(skeleton(source(file)), { uniqueKeys: false });
    expect(docs.flatMap((d) => d.errors.map((e) => e.message))).toEqual([]);
    for (const d of docs) {
      const doc = d.toJS() as Obj | null;
      if (doc === null) continue;
      expect({ file, apiVersion: typeof doc.apiVersion, kind: typeof doc.kind, name: typeof doc.metadata?.name }).toEqual({
        file,
        apiVersion: "string",
        kind: "string",
        name: "string",
      });
    }
  });
});

describe("the bridge's environment", () => {
  const documented = readmeVariables(readme);
  const helpers = source("_helpers.tpl");
  const deployment = source("deployment.yaml");

  /** Names the chart gives the bridge container: the ConfigMap's (dcsb.env), the literal env entries, secretEnv's. */
  const chartVariables = () => {
    const envBlock = helpers.slice(helpers.indexOf('define "dcsb.env"'), helpers.indexOf('define "dcsb.validate"'));
    const fromHelpers = [...envBlock.matchAll(/"([A-Z][A-Z0-9_]+)"/g)].map((m) => m[1]);
    const container = deployment.slice(deployment.indexOf("containers:"), deployment.indexOf("volumes:\n"));
    const literal = [...container.matchAll(/- name: ([A-Z][A-Z0-9_]+)\s*$/gm)].map((m) => m[1]);
    return { fromHelpers, literal, secret: Object.keys(values.secretEnv), env: Object.keys(values.env ?? {}) };
  };

  it("finds the README's configuration table", () => {
    expect(documented.size).toBeGreaterThan(40);
    expect(documented).toContain("BRIDGE_REPLICAS");
  });

  it("sets only variables the README documents (and Node's NODE_OPTIONS)", () => {
    const { fromHelpers, literal, secret, env } = chartVariables();
    expect(fromHelpers).toEqual(expect.arrayContaining(["PUBLIC_BASE_URL", "DIGICERT_PLATFORM", "BRIDGE_REPLICAS", "ROLE_MAPPING_FILE"]));
    expect(literal).toContain("NODE_OPTIONS");
    const all = new Set([...fromHelpers, ...literal, ...secret, ...env]);
    expect([...all].filter((name) => name !== "NODE_OPTIONS" && !documented.has(name))).toEqual([]);
  });

  it("makes every README secret variable a secretEnv entry, and refuses secrets in env", () => {
    expect([...documented].filter((n) => (FILE_SECRET_VARIABLES as readonly string[]).includes(n)).sort()).toEqual(
      Object.keys(values.secretEnv).sort(),
    );
    expect(helpers).toMatch(/hasKey \$v\.secretEnv \$name[\s\S]*?fail/);
  });

  it("keeps BRIDGE_REPLICAS equal to replicaCount, and refuses an env.BRIDGE_REPLICAS that differs", () => {
    expect(helpers).toMatch(/"BRIDGE_REPLICAS" \(toString \$v\.replicaCount\)/);
    expect(helpers).toMatch(/eq \$name "BRIDGE_REPLICAS"\) \(ne \(toString \$value\) \(toString \$v\.replicaCount\)\)[\s\S]*?fail/);
    expect(deployment).toMatch(/^\s*replicas: \{\{ \.Values\.replicaCount \}\}$/m);
  });

  it("mounts the role mapping from a ConfigMap and points ROLE_MAPPING_FILE at it", () => {
    expect(helpers).toMatch(/set \$env "ROLE_MAPPING_FILE" \(printf "%s\/%s" \(trimSuffix "\/" \$v\.roleMapping\.mountPath\) \$v\.roleMapping\.key\)/);
    expect(deployment).toMatch(/- name: role-mapping\s+mountPath: \{\{ \.Values\.roleMapping\.mountPath \}\}/);
    expect(deployment).toMatch(/- name: role-mapping\s+configMap:/);
  });

  it("writes only to /tmp (an emptyDir) and, with SQLite, /data", () => {
    expect(deployment).toMatch(/- name: tmp\s+mountPath: \/tmp/);
    expect(deployment).toMatch(/- name: tmp\s+emptyDir:/);
    expect(deployment).toMatch(/- name: data\s+mountPath: \/data/);
    expect(helpers).toMatch(/sqlite\.enabled and replicaCount|sqlite\.enabled needs replicaCount: 1/);
  });
});

describe("probes", () => {
  const deployment = source("deployment.yaml");
  const probe = (name: string) => new RegExp(`${name}:\\s*\\n\\s*httpGet:\\s*\\n\\s*path: (\\S+)\\s*\\n\\s*port: (\\S+)`).exec(deployment);

  it("checks liveness and startup on /healthz and readiness on /readyz, on the container's port", () => {
    expect(probe("startupProbe")?.slice(1)).toEqual(["/healthz", "http"]);
    expect(probe("livenessProbe")?.slice(1)).toEqual(["/healthz", "http"]);
    expect(probe("readinessProbe")?.slice(1)).toEqual(["/readyz", "http"]);
    expect(deployment).toMatch(/- name: http\s+containerPort: \{\{ \.Values\.containerPort \}\}/);
  });

  it("gives startup two minutes and drains within the grace period", () => {
    expect(values.startupProbe.periodSeconds * values.startupProbe.failureThreshold).toBeGreaterThanOrEqual(120);
    expect(values.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
  });
});

describe("what the readiness probe relies on, in src/http", () => {
  // The chart, the kustomize manifests and their READMEs promise: /readyz is 503 only when the store fails or DigiCert
  // refuses the key; DigiCert down keeps the pods ready. Checked against the real checks.
  const logger = { warn: () => undefined } as unknown as Logger;
  const probe = (ping: () => Promise<void>, storeUp = true) =>
    readinessProbe(
      bridgeReadinessChecks({
        store: { ping: async () => (storeUp ? undefined : Promise.reject(new Error("down"))) },
        outboxStats: async () => ({ pending: 0, running: 0, failed: 0, oldestUnfinished: null }),
        digicert: { ping, pacing: () => ({ mode: "local", queued: 0 }) } as unknown as ClosableDigiCertClient,
        dryRun: false,
        maxPending: 1000,
        sharedRateBudget: false,
      }),
      logger,
    )();

  it("stays ready, DigiCert degraded, when DigiCert is unreachable or rate limiting", async () => {
    for (const kind of ["unavailable", "rate_limited"] as const) {
      const report = await probe(async () => Promise.reject(new DigiCertError(kind, "x")));
      expect(report.status).toBe("ready");
      expect(report.components.digicert.status).toBe("degraded");
    }
  });

  it("is not ready when DigiCert refuses the key or the store does not answer", async () => {
    expect((await probe(async () => Promise.reject(new DigiCertError("auth", "x")))).status).toBe("not ready");
    expect((await probe(async () => undefined, false)).status).toBe("not ready");
    expect((await probe(async () => undefined)).status).toBe("ready");
  });
});

describe("PrometheusRule", () => {
  const doc: Obj = parse(skeleton(source("prometheusrule.yaml")), { uniqueKeys: false });
  const rules: Obj[] = doc.spec.groups.flatMap((g: Obj) => g.rules);
  const alerts = readmeAlerts(readme);

  it("finds the README's recommended alerts", () => {
    expect(alerts.length).toBeGreaterThanOrEqual(7);
  });

  it.each(readmeAlerts(readme))("carries the README's alert on %s", (expr) => {
    const comparison = /\s*(==|>|<|>=|<=|!=)\s*(\S+)$/.exec(expr);
    const core = comparison ? expr.slice(0, comparison.index) : expr;
    const carrying = rules.filter((r) => String(r.expr).includes(core));
    expect(carrying).toHaveLength(1);
    if (comparison) expect(String(carrying[0].expr).replace(/\s+/g, " ")).toMatch(new RegExp(`\\)\\s*${comparison[1]}\\s*${comparison[2]}$`));
  });

  it("asks only for metrics the bridge exports", () => {
    const metrics = createMetrics();
    const exported = new Set(metrics.registry.getMetricsAsArray().map((m) => (m as unknown as { name: string }).name));
    const used = rules.flatMap((r) => [...String(r.expr).matchAll(/\b((?:outbox|scim|digicert|reconcile)_[a-z_]+)\b/g)].map((m) => m[1]));
    expect(used.length).toBeGreaterThanOrEqual(rules.length);
    expect(used.filter((n) => !exported.has(n))).toEqual([]);
  });

  it("has one alert per README expression, with the names the chart's README lists", () => {
    expect(rules).toHaveLength(alerts.length);
    const listed = [...chartReadme.matchAll(/^\| `(DigiCertScim\w+)` \|/gm)].map((m) => m[1]);
    expect(rules.map((r) => r.alert).sort()).toEqual(listed.sort());
    for (const r of rules) {
      expect(r.labels.severity).toMatch(/^(info|warning|critical)$/);
      expect(r.annotations.summary).toEqual(expect.any(String));
    }
  });
});

describe("deploy/kubernetes agrees with the chart", () => {
  const K8S = join(ROOT, "deploy", "kubernetes");
  const deployment: Obj = parse(readFileSync(join(K8S, "deployment.yaml"), "utf8"));
  const pdb: Obj = parse(readFileSync(join(K8S, "pdb.yaml"), "utf8"));
  const configMap: Obj = parse(readFileSync(join(K8S, "configmap.yaml"), "utf8"));
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const timings = (p: Obj) => ({ periodSeconds: p.periodSeconds, timeoutSeconds: p.timeoutSeconds, failureThreshold: p.failureThreshold });

  it("probes the same paths with the same timings", () => {
    expect(container.startupProbe.httpGet.path).toBe("/healthz");
    expect(container.livenessProbe.httpGet.path).toBe("/healthz");
    expect(container.readinessProbe.httpGet.path).toBe("/readyz");
    expect(timings(container.startupProbe)).toEqual(values.startupProbe);
    expect(timings(container.livenessProbe)).toEqual(values.livenessProbe);
    expect(timings(container.readinessProbe)).toEqual(values.readinessProbe);
  });

  it("has the same PDB, security context, resources, heap and drain", () => {
    expect(pdb.spec.minAvailable).toBe(values.podDisruptionBudget.minAvailable);
    expect(container.securityContext).toEqual(values.securityContext);
    const { fsGroup: _fsGroup, ...podSecurity } = values.podSecurityContext;
    expect(pod.securityContext).toEqual(podSecurity);
    expect(container.resources).toEqual(values.resources);
    expect(container.env).toContainEqual({ name: "NODE_OPTIONS", value: values.nodeOptions });
    expect(pod.terminationGracePeriodSeconds).toBe(values.terminationGracePeriodSeconds);
    expect(container.lifecycle.preStop.exec.command).toEqual(["sleep", String(values.preStopSleepSeconds)]);
    expect(container.volumeMounts.find((m: Obj) => m.name === "role-mapping").mountPath).toBe(values.roleMapping.mountPath);
  });

  it("sets the same defaults for the settings the chart names", () => {
    expect(configMap.data.DIGICERT_PLATFORM).toBe(values.digicert.platform);
    expect(configMap.data.DIGICERT_RATE_LIMIT).toBe(values.digicert.rateLimit);
    expect(configMap.data.LOG_LEVEL).toBe(values.logLevel);
    expect(Number(configMap.data.BRIDGE_REPLICAS)).toBe(values.replicaCount);
    expect(deployment.spec.replicas).toBe(values.replicaCount);
  });

  it("says what /readyz really answers: DigiCert down is degraded and keeps the pods ready", () => {
    const k8sReadme = readFileSync(join(K8S, "README.md"), "utf8");
    const rawDeployment = readFileSync(join(K8S, "deployment.yaml"), "utf8");
    for (const text of [k8sReadme, rawDeployment, chartReadme]) {
      expect(text).not.toMatch(/every pod goes unready|makes all of them\s+unready|503 when (PostgreSQL or )?DigiCert cannot be reached/);
      expect(text).toMatch(/degraded/);
    }
  });
});
