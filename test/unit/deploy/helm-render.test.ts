import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readmeVariables, ROOT } from "./chart-support";
import { TemplateFailure } from "./gotemplate";
import { renderChart } from "./render-chart";
import { FILE_SECRET_VARIABLES } from "../../../src/config/file-secrets";

const SECRET_NAMES: readonly string[] = FILE_SECRET_VARIABLES;

// The chart rendered (by test/unit/deploy/gotemplate.ts, helm being unavailable here) with the value sets the
// chart's README lists for `helm template`: every manifest parses and says what the README promises.

type Obj = Record<string, any>;

const documented = readmeVariables(readFileSync(join(ROOT, "README.md"), "utf8"));
const of = (objects: Obj[], kind: string) => objects.filter((o) => o.kind === kind);
const one = (objects: Obj[], kind: string, component = "scim-server") => {
  const found = of(objects, kind).filter((o) => (o.metadata.labels?.["app.kubernetes.io/component"] ?? "scim-server") === component);
  expect(found).toHaveLength(1);
  return found[0];
};
const bridge = (objects: Obj[]) => one(objects, "Deployment");
const container = (objects: Obj[]) => bridge(objects).spec.template.spec.containers[0];
const configData = (objects: Obj[]) => of(objects, "ConfigMap").find((c) => c.metadata.name === "scim-digicert-scim-bridge")!.data as Record<string, string>;
const envNames = (objects: Obj[]) => [...Object.keys(configData(objects)), ...container(objects).env.map((e: Obj) => e.name)];

const SCENARIOS: Record<string, Obj> = {
  defaults: {},
  sqlite: { replicaCount: 1, postgresql: { enabled: false }, redis: { enabled: false }, sqlite: { enabled: true } },
  external: {
    replicaCount: 3,
    postgresql: { enabled: false },
    redis: { enabled: false },
    secrets: { existingSecret: "digicert-scim-bridge" },
    secretEnv: { DIGICERT_API_KEY: { existingSecret: "dc-key", existingSecretKey: "key" }, METRICS_TOKEN: { value: "prometheus=abc" } },
    ingress: { enabled: true, className: "nginx", tls: [{ secretName: "scim-tls", hosts: ["scim.example.com"] }] },
    serviceMonitor: { enabled: true, bearerTokenSecret: { name: "prom-token", key: "token" } },
    prometheusRule: { enabled: true, labels: { release: "kube-prometheus-stack" } },
    roleMapping: { content: 'forbid: ["Administrator"]\ndefault: ["Standard User"]\n' },
    tls: { existingSecret: "bridge-tls" },
    digicert: { platform: "one", oneAccountId: "3f0e7d1c-0000-4000-8000-000000000001" },
    env: { SYNC_WAIT_MS: "3000", OUTBOX_MAX_PENDING: 2000 },
    dryRun: true,
  },
};

describe.each(Object.entries(SCENARIOS))("rendered with %s values", (_name, values) => {
  const { objects, notes } = renderChart(values);
  const replicas = values.replicaCount ?? 2;

  it("gives every object apiVersion, kind and a name", () => {
    for (const o of objects) expect({ file: o.__file, apiVersion: typeof o.apiVersion, kind: typeof o.kind, name: typeof o.metadata?.name }).toEqual({
      file: o.__file,
      apiVersion: "string",
      kind: "string",
      name: "string",
    });
    expect(notes).toContain("SCIM base URL for the IdP");
  });

  it("runs the replicas with BRIDGE_REPLICAS equal to them", () => {
    expect(bridge(objects).spec.replicas).toBe(replicas);
    expect(configData(objects).BRIDGE_REPLICAS).toBe(String(replicas));
  });

  it("probes /healthz (startup, liveness) and /readyz (readiness) on the http port", () => {
    const c = container(objects);
    expect(c.startupProbe.httpGet).toEqual(expect.objectContaining({ path: "/healthz", port: "http" }));
    expect(c.livenessProbe.httpGet).toEqual(expect.objectContaining({ path: "/healthz", port: "http" }));
    expect(c.readinessProbe.httpGet).toEqual(expect.objectContaining({ path: "/readyz", port: "http" }));
    expect(c.ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
  });

  it("gives the bridge only variables the README documents (and NODE_OPTIONS)", () => {
    expect(envNames(objects).filter((n) => n !== "NODE_OPTIONS" && !documented.has(n))).toEqual([]);
    const names = envNames(objects);
    expect(new Set(names).size).toBe(names.length);
  });

  it("runs locked down, writing only to its volumes", () => {
    const pod = bridge(objects).spec.template.spec;
    const c = container(objects);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(c.securityContext).toEqual(expect.objectContaining({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }));
    const volumes = new Set(pod.volumes.map((v: Obj) => v.name));
    for (const m of c.volumeMounts) expect(volumes).toContain(m.name);
    expect(c.volumeMounts.find((m: Obj) => m.mountPath === "/tmp")).toBeDefined();
  });

  it("has a PodDisruptionBudget with more than one replica only", () => {
    expect(of(objects, "PodDisruptionBudget")).toHaveLength(replicas > 1 ? 1 : 0);
  });

  it("selects the bridge pods with its Service, PDB, NetworkPolicy and ServiceMonitor", () => {
    const labels = bridge(objects).spec.template.metadata.labels;
    const matches = (sel: Record<string, string>) => Object.entries(sel).every(([k, v]) => labels[k] === v);
    expect(matches(one(objects, "Service").spec.selector)).toBe(true);
    for (const o of of(objects, "PodDisruptionBudget")) expect(matches(o.spec.selector.matchLabels)).toBe(true);
    expect(matches(of(objects, "NetworkPolicy").find((n) => n.metadata.name === "scim-digicert-scim-bridge")!.spec.podSelector.matchLabels)).toBe(true);
    for (const o of of(objects, "ServiceMonitor")) expect(Object.entries(o.spec.selector.matchLabels).every(([k, v]) => one(objects, "Service").metadata.labels[k] === v)).toBe(true);
  });

  it("points DATABASE_URL and REDIS_URL at exactly one source each", () => {
    const env: Obj[] = container(objects).env;
    const db = env.filter((e) => e.name === "DATABASE_URL");
    expect(db.length).toBe(1);
    if (values.sqlite?.enabled) expect(db[0].value).toBe("sqlite:/data/scim.db");
  });
});

describe("scenario details", () => {
  it("defaults: bundled PostgreSQL (StatefulSet, Secret with database-url) and Redis (no persistence)", () => {
    const { objects } = renderChart();
    const pg = one(objects, "StatefulSet", "postgresql");
    const secret = of(objects, "Secret").find((s) => s.metadata.name === "scim-digicert-scim-bridge-postgresql")!;
    const url = Buffer.from(secret.data["database-url"], "base64").toString();
    expect(url).toMatch(/^postgres:\/\/scim:[A-Za-z0-9]{32}@scim-digicert-scim-bridge-postgresql:5432\/scim$/);
    expect(pg.spec.template.spec.containers[0].env).toContainEqual(
      expect.objectContaining({ name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: { name: secret.metadata.name, key: "password" } } }),
    );
    const redis = one(objects, "Deployment", "redis");
    expect(redis.spec.template.spec.containers[0].command).toEqual(["redis-server", "--save", "", "--appendonly", "no"]);
    expect(container(objects).env).toContainEqual({ name: "REDIS_URL", value: "redis://scim-digicert-scim-bridge-redis:6379/0" });
  });

  it("sqlite: one replica on a kept PVC at /data, Recreate strategy, no PostgreSQL or Redis", () => {
    const { objects } = renderChart(SCENARIOS.sqlite);
    expect(bridge(objects).spec.strategy).toEqual({ type: "Recreate" });
    const pvc = one(objects, "PersistentVolumeClaim");
    expect(pvc.metadata.annotations["helm.sh/resource-policy"]).toBe("keep");
    expect(container(objects).volumeMounts).toContainEqual({ name: "data", mountPath: "/data" });
    expect(of(objects, "StatefulSet")).toHaveLength(0);
    expect(container(objects).env.map((e: Obj) => e.name)).not.toContain("REDIS_URL");
  });

  it("external: secrets from Secrets, role mapping, TLS, Ingress, monitoring", () => {
    const { objects } = renderChart(SCENARIOS.external);
    const env: Obj[] = container(objects).env;
    const byName = Object.fromEntries(env.map((e) => [e.name, e]));
    expect(byName.DIGICERT_API_KEY.valueFrom.secretKeyRef).toEqual({ name: "dc-key", key: "key" });
    expect(byName.METRICS_TOKEN.valueFrom.secretKeyRef).toEqual({ name: "scim-digicert-scim-bridge", key: "METRICS_TOKEN" });
    expect(byName.DATABASE_URL.valueFrom.secretKeyRef).toEqual({ name: "digicert-scim-bridge", key: "DATABASE_URL", optional: true });
    const chartSecret = of(objects, "Secret").find((s) => s.metadata.name === "scim-digicert-scim-bridge")!;
    expect(Object.keys(chartSecret.data)).toEqual(["METRICS_TOKEN"]);

    const data = configData(objects);
    expect(data).toEqual(
      expect.objectContaining({
        ROLE_MAPPING_FILE: "/etc/digicert-scim/role-mapping.yaml",
        TLS_CERT_FILE: "/etc/digicert-scim-tls/tls.crt",
        TLS_KEY_FILE: "/etc/digicert-scim-tls/tls.key",
        PUBLIC_BASE_URL: "https://scim.example.com",
        DIGICERT_PLATFORM: "one",
        SYNC_WAIT_MS: "3000",
        OUTBOX_MAX_PENDING: "2000",
        DRY_RUN: "true",
      }),
    );
    const mapping = of(objects, "ConfigMap").find((c) => c.metadata.name === "scim-digicert-scim-bridge-role-mapping")!;
    expect(mapping.data["role-mapping.yaml"]).toContain('forbid: ["Administrator"]');
    expect(container(objects).readinessProbe.httpGet.scheme).toBe("HTTPS");

    const ingress = one(objects, "Ingress");
    expect(ingress.spec.rules[0].http.paths.map((p: Obj) => p.path)).toEqual(["/scim/v2", "/oauth/token"]);
    expect(one(objects, "ServiceMonitor").spec.endpoints[0]).toEqual(
      expect.objectContaining({ path: "/metrics", scheme: "https", authorization: { type: "Bearer", credentials: { name: "prom-token", key: "token" } } }),
    );
    const rule = one(objects, "PrometheusRule");
    expect(rule.metadata.labels.release).toBe("kube-prometheus-stack");
    expect(rule.spec.groups[0].rules.find((r: Obj) => r.alert === "DigiCertScimOutboxOldestJobOld").expr).toMatch(/> 300$/);
    // External database and Redis: their ports are open in the egress.
    const np = of(objects, "NetworkPolicy").find((n) => n.metadata.name === "scim-digicert-scim-bridge")!;
    expect(np.spec.egress.flatMap((e: Obj) => e.ports.map((p: Obj) => p.port))).toEqual(expect.arrayContaining([53, 443, 5432, 6379]));
  });

  it.each([
    ["SQLite with two replicas", { postgresql: { enabled: false }, sqlite: { enabled: true } }, /sqlite\.enabled needs replicaCount: 1/],
    ["two stores", { sqlite: { enabled: true }, replicaCount: 1 }, /choose one store/],
    ["no store", { postgresql: { enabled: false } }, /no store/],
    ["DATABASE_URL with the bundled PostgreSQL", { secretEnv: { DATABASE_URL: { value: "postgres://x" } } }, /turn postgresql\.enabled and sqlite\.enabled off/],
    ["a secret in env", { env: { DIGICERT_API_KEY: "k" } }, /env\.DIGICERT_API_KEY is a secret/],
    ["BRIDGE_REPLICAS unlike replicaCount", { env: { BRIDGE_REPLICAS: "3" } }, /must equal replicaCount/],
    ["a password that breaks the URL", { postgresql: { auth: { password: "a@b" } } }, /letters and digits only/],
  ])("refuses %s with a message naming the values", (_what, values, message) => {
    expect(() => renderChart(values)).toThrow(TemplateFailure);
    expect(() => renderChart(values)).toThrow(message);
  });

  it("sets every variable of the README's table: secrets through secretEnv, the others through env", () => {
    const secrets = new Set(SECRET_NAMES);
    const env = Object.fromEntries([...documented].filter((n) => !secrets.has(n)).map((n) => [n, n === "BRIDGE_REPLICAS" ? "2" : `v-${n}`]));
    const secretEnv = Object.fromEntries([...secrets].map((n) => [n, { existingSecret: "mine" }]));
    const { objects } = renderChart({ env, secretEnv, postgresql: { enabled: false }, redis: { enabled: false } });
    const set = new Set(envNames(objects));
    expect([...documented].filter((n) => !set.has(n))).toEqual([]);
    expect(configData(objects).SYNC_WAIT_MS).toBe("v-SYNC_WAIT_MS");
  });

  it("accepts env.BRIDGE_REPLICAS equal to replicaCount", () => {
    expect(configData(renderChart({ env: { BRIDGE_REPLICAS: "2" } }).objects).BRIDGE_REPLICAS).toBe("2");
  });
});
