import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { envSchema } from "../../src/config/env";

// The deployment files for several replicas (docker-compose.yml, deploy/compose/nginx.conf, deploy/kubernetes/)
// hold what README.md, "Running more than one replica", promises: PostgreSQL, Redis, BRIDGE_REPLICAS, the probes.

const ROOT = join(__dirname, "..", "..");
const K8S = join(ROOT, "deploy", "kubernetes");

type Obj = Record<string, any>;

/** Variables the bridge reads (src/config/env.ts), and BRIDGE_REPLICAS, which may land there separately. */
const KNOWN_ENV = new Set([...Object.keys(envSchema.shape), "BRIDGE_REPLICAS"]);

describe("docker-compose.yml", () => {
  // `<<: *bridge` merge keys are YAML 1.1, which compose reads; the yaml package needs merge: true for them.
  const compose: Obj = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"), { merge: true });
  const services: Record<string, Obj> = compose.services;
  const bridgeNames = Object.keys(services).filter((n) => services[n].image?.startsWith("digicert-scim-bridge"));
  const bridges = bridgeNames.map((n) => services[n]);

  it("has postgres, redis, two bridge replicas and a load balancer", () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(["postgres", "redis", "lb"]));
    expect(bridgeNames).toHaveLength(2);
  });

  it("runs the bridges with a read-only root filesystem, no capabilities and no privilege escalation", () => {
    for (const b of bridges) {
      expect(b.read_only).toBe(true);
      expect(b.tmpfs).toContain("/tmp");
      expect(b.cap_drop).toEqual(["ALL"]);
      expect(b.security_opt).toContain("no-new-privileges:true");
    }
  });

  it("checks postgres with pg_isready and redis with redis-cli ping", () => {
    expect(services.postgres.image).toMatch(/^postgres:/);
    expect(services.postgres.healthcheck.test.join(" ")).toContain("pg_isready");
    expect(services.redis.image).toMatch(/^redis:/);
    expect(services.redis.healthcheck.test.join(" ")).toMatch(/redis-cli\s+ping/);
  });

  it("builds every replica from the Dockerfile as the same image, with the same environment and commit", () => {
    for (const b of bridges) {
      expect(b.build.context).toBe(".");
      // The commit the image reports (src/version.ts) and labels, from the shell: BUILD_COMMIT=$(git rev-parse HEAD).
      expect(b.build.args.BUILD_COMMIT).toBe("${BUILD_COMMIT:-unknown}");
      expect(b.image).toBe(bridges[0].image);
      expect(b.environment).toEqual(bridges[0].environment);
      expect(b.env_file).toEqual(bridges[0].env_file);
    }
  });

  it.each(bridgeNames)("%s uses PostgreSQL, Redis and BRIDGE_REPLICAS equal to the replicas", (name) => {
    const env: Record<string, string> = services[name].environment;
    expect(env.DATABASE_URL).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
    expect(env.REDIS_URL).toMatch(/^redis:\/\/redis:6379(\/|$)/);
    expect(Number(env.BRIDGE_REPLICAS)).toBe(bridgeNames.length);
    expect(env.PORT).toBe("8080");
  });

  it.each(bridgeNames)("%s takes the secrets from .env (never written here) and sets only variables the bridge reads", (name) => {
    const env: Record<string, string> = services[name].environment;
    // The bridge itself refuses to start without them, naming the variable (also when given as NAME_FILE).
    for (const secret of ["SCIM_BEARER_TOKENS", "DIGICERT_API_KEY", "OAUTH_SIGNING_KEY", "ADMIN_TOKENS", "METRICS_TOKEN"]) {
      expect(env[secret]).toBeUndefined();
    }
    expect(services[name].env_file).toEqual([".env"]);
    expect(Object.keys(env).filter((k) => !KNOWN_ENV.has(k))).toEqual([]);
  });

  it.each(bridgeNames)("%s waits for healthy postgres and redis, checks /healthz and drains before a kill", (name) => {
    const b = services[name];
    expect(b.depends_on.postgres.condition).toBe("service_healthy");
    expect(b.depends_on.redis.condition).toBe("service_healthy");
    expect(b.healthcheck.test.join(" ")).toContain("/healthz");
    // The bridge drains within 25 s; compose's default stop timeout (10 s) would kill it mid-drain.
    expect(parseInt(b.stop_grace_period, 10)).toBeGreaterThanOrEqual(25);
    // Only the load balancer is published.
    expect(b.ports).toBeUndefined();
  });

  it("puts nginx in front of both replicas on host port 8080, once they are healthy", () => {
    const lb = services.lb;
    expect(lb.image).toMatch(/^nginx:.*alpine/);
    expect(lb.ports).toEqual(["8080:80"]);
    expect(lb.volumes).toContain("./deploy/compose/nginx.conf:/etc/nginx/conf.d/default.conf:ro");
    for (const n of bridgeNames) expect(lb.depends_on[n].condition).toBe("service_healthy");
  });

  describe("deploy/compose/nginx.conf", () => {
    const conf = readFileSync(join(ROOT, "deploy", "compose", "nginx.conf"), "utf8").replace(/#.*$/gm, "");
    const directive = (name: string) => new RegExp(`^\\s*${name}\\s+([^;]+);`, "m").exec(conf)?.[1];

    it("round-robins over every replica on 8080", () => {
      const upstream = /upstream\s+(\S+)\s*\{([^}]*)\}/.exec(conf);
      expect(upstream).not.toBeNull();
      const servers = [...upstream![2].matchAll(/^\s*server\s+([^\s;]+)/gm)].map((m) => m[1]);
      expect(servers.sort()).toEqual(bridgeNames.map((n) => `${n}:8080`).sort());
      // Round-robin is nginx's default: no other balancing method.
      expect(upstream![2]).not.toMatch(/\b(least_conn|ip_hash|hash|random)\b/);
      expect(directive("proxy_pass")).toBe(`http://${upstream![1]}`);
    });

    it("waits longer than the longest SYNC_WAIT_MS and passes the client's address and scheme", () => {
      expect(parseInt(directive("proxy_read_timeout") ?? "", 10)).toBeGreaterThan(60); // SYNC_WAIT_MS ≤ 60000
      expect(conf).toMatch(/proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for;/);
      expect(conf).toMatch(/proxy_set_header\s+X-Forwarded-Proto\s+\$scheme;/);
      // The bridge answers bodies over 1 MiB with a SCIM 413 itself.
      expect(parseInt(directive("client_max_body_size") ?? "", 10)).toBeGreaterThan(1);
      // A POST or PATCH is never re-sent to another replica.
      expect(directive("proxy_next_upstream")).not.toMatch(/non_idempotent/);
    });
  });
});

describe("Dockerfile", () => {
  const text = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string; license: string; engines: { node: string } };
  const sqlite = JSON.parse(readFileSync(join(ROOT, "node_modules", "better-sqlite3", "package.json"), "utf8")) as { engines: { node: string } };
  const arg = (name: string) => new RegExp(`^ARG\\s+${name}(?:=(.*))?$`, "m").exec(text)?.[1];
  const label = (name: string) => new RegExp(`org\\.opencontainers\\.image\\.${name}="([^"]*)"`).exec(text)?.[1];
  /** Node.js majors a `^a.b.c || ^x.y.z` range (or `x.x || y.x`) names. */
  const majors = (range: string) => [...range.matchAll(/(?:^|\|\|)\s*\^?(\d+)[.x]/g)].map((m) => Number(m[1]));

  it("builds and runs on a supported Node.js LTS (even major, 22 or later) that better-sqlite3 supports", () => {
    const image = arg("NODE_IMAGE");
    expect(image).toMatch(/^node:\d+-bookworm-slim$/);
    const major = Number(/^node:(\d+)/.exec(image!)![1]);
    expect(major).toBeGreaterThanOrEqual(22);
    expect(major % 2).toBe(0);
    expect(majors(sqlite.engines.node)).toContain(major);
    // Both stages use it: a binary compiled for one Node.js ABI does not load in another.
    expect(text.match(/^FROM\s+\S+/gm)).toEqual(["FROM ${NODE_IMAGE}", "FROM ${NODE_IMAGE}"]);
    // package.json accepts the image's Node.js and still Node.js 20 (CI and development machines).
    expect(majors(pkg.engines.node)).toEqual(expect.arrayContaining([20, major]));
  });

  it("labels the image (OCI) with version, revision, source, title and licenses from build arguments", () => {
    expect(arg("BUILD_VERSION")).toBe(pkg.version);
    expect(arg("BUILD_COMMIT")).toBe("unknown");
    expect(arg("BUILD_SOURCE")).toBe("");
    expect(label("version")).toBe("${BUILD_VERSION}");
    expect(label("revision")).toBe("${BUILD_COMMIT}");
    expect(label("source")).toBe("${BUILD_SOURCE}");
    expect(label("title")).toBe("DigiCert SCIM Bridge");
    expect(label("licenses")).toBe(pkg.license);
    // The running bridge reports the same commit (src/version.ts reads BUILD_COMMIT).
    expect(text).toMatch(/^ENV\s+BUILD_COMMIT=\$\{BUILD_COMMIT\}$/m);
  });
});

describe("deploy/kubernetes", () => {
  const files = readdirSync(K8S).filter((f) => /\.ya?ml$/.test(f));
  const parsed = files.flatMap((file) =>
    parseAllDocuments(readFileSync(join(K8S, file), "utf8")).map((d) => ({ file, errors: d.errors.map(String), doc: d.toJS() as Obj })),
  );
  const docs = parsed.filter((d) => d.doc !== null);
  const manifests = docs.filter((d) => d.file !== "kustomization.yaml");
  const ofKind = (kind: string) => manifests.filter((d) => d.doc.kind === kind).map((d) => d.doc);
  const one = (kind: string) => {
    const found = ofKind(kind);
    expect(found).toHaveLength(1);
    return found[0];
  };
  const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
    Object.entries(selector).every(([k, v]) => labels[k] === v);

  it("has the expected files", () => {
    expect(files.sort()).toEqual(
      expect.arrayContaining([
        "configmap.yaml",
        "deployment.yaml",
        "kustomization.yaml",
        "pdb.yaml",
        "secret.example.yaml",
        "service.yaml",
      ]),
    );
    expect(existsSync(join(K8S, "README.md"))).toBe(true);
  });

  it("parses every file", () => {
    expect(parsed.filter((d) => d.errors.length).map((d) => [d.file, d.errors])).toEqual([]);
    expect(new Set(docs.map((d) => d.file))).toEqual(new Set(files));
  });

  it("gives every document apiVersion, kind and metadata.name, all in one namespace", () => {
    for (const { file, doc } of docs) {
      expect({ file, apiVersion: typeof doc.apiVersion, kind: typeof doc.kind }).toEqual({
        file,
        apiVersion: "string",
        kind: "string",
      });
      if (file !== "kustomization.yaml") expect({ file, name: typeof doc.metadata?.name }).toEqual({ file, name: "string" });
    }
    const namespace = one("Namespace").metadata.name;
    for (const { doc } of manifests.filter((d) => d.doc.kind !== "Namespace")) expect(doc.metadata.namespace).toBe(namespace);
  });

  it("lists every manifest but the example Secret in kustomization.yaml", () => {
    const kustomization = docs.find((d) => d.file === "kustomization.yaml")!.doc;
    expect(kustomization.kind).toBe("Kustomization");
    const listed: string[] = kustomization.resources;
    for (const f of listed) expect(files).toContain(f);
    const expected = [...new Set(manifests.map((d) => d.file))].filter((f) => f !== "secret.example.yaml");
    expect([...listed].sort()).toEqual(expected.sort());
  });

  describe("Deployment", () => {
    const deployment = () => one("Deployment");
    const pod = () => deployment().spec.template.spec;
    const container = () => {
      expect(pod().containers).toHaveLength(1);
      return pod().containers[0];
    };
    const portOf = (probe: Obj) => {
      const p = probe.httpGet.port;
      return typeof p === "number" ? p : container().ports.find((cp: Obj) => cp.name === p)?.containerPort;
    };

    it("runs at least two replicas, rolling one extra pod at a time with none unavailable", () => {
      const d = deployment();
      expect(d.spec.replicas).toBeGreaterThanOrEqual(2);
      expect(d.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels)).toBe(true);
    });

    it("probes readiness on /readyz and liveness and startup on /healthz, port 8080", () => {
      const c = container();
      expect(c.ports.map((p: Obj) => p.containerPort)).toContain(8080);
      expect(c.readinessProbe.httpGet.path).toBe("/readyz");
      expect(c.livenessProbe.httpGet.path).toBe("/healthz");
      expect(c.startupProbe.httpGet.path).toBe("/healthz");
      for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) expect(portOf(probe)).toBe(8080);
    });

    it("reads the ConfigMap and the Secret, and BRIDGE_REPLICAS matches replicas", () => {
      const refs = container().envFrom;
      const configMap = one("ConfigMap");
      const secret = one("Secret");
      expect(refs).toEqual(
        expect.arrayContaining([{ configMapRef: { name: configMap.metadata.name } }, { secretRef: { name: secret.metadata.name } }]),
      );
      expect(Number(configMap.data.BRIDGE_REPLICAS)).toBe(deployment().spec.replicas);
    });

    it("drains within the grace period and runs locked down", () => {
      const p = pod();
      const c = container();
      // The bridge stops itself after 25 s at most.
      expect(p.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
      expect(p.securityContext.runAsNonRoot).toBe(true);
      // The image's USER is a name; the kubelet can only verify runAsNonRoot with a numeric uid.
      expect(p.securityContext.runAsUser ?? c.securityContext.runAsUser).toBeGreaterThan(0);
      expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
      expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
      expect(c.securityContext.capabilities.drop).toEqual(["ALL"]);
      expect(c.resources.requests).toEqual(expect.objectContaining({ cpu: expect.anything(), memory: expect.anything() }));
      expect(c.resources.limits.memory).toBeDefined();
      const tmp = c.volumeMounts.find((m: Obj) => m.mountPath === "/tmp");
      expect(p.volumes.find((v: Obj) => v.name === tmp.name).emptyDir).toBeDefined();
    });

    it("spreads the replicas over nodes", () => {
      const p = pod();
      const spread = (p.topologySpreadConstraints ?? []).map((t: Obj) => t.topologyKey);
      const anti = p.affinity?.podAntiAffinity;
      expect(spread.includes("kubernetes.io/hostname") || anti !== undefined).toBe(true);
    });
  });

  it("has a Service sending port 80 to the pods' 8080", () => {
    const service = one("Service");
    expect(service.spec.type ?? "ClusterIP").toBe("ClusterIP");
    expect(service.spec.ports).toEqual([expect.objectContaining({ port: 80, targetPort: 8080 })]);
    expect(matches(service.spec.selector, one("Deployment").spec.template.metadata.labels)).toBe(true);
  });

  it("has a PodDisruptionBudget keeping one replica", () => {
    const pdb = one("PodDisruptionBudget");
    expect(pdb.apiVersion).toBe("policy/v1");
    expect(pdb.spec.minAvailable).toBe(1);
    expect(matches(pdb.spec.selector.matchLabels, one("Deployment").spec.template.metadata.labels)).toBe(true);
  });

  it("has an example Secret with placeholders for the secrets, PostgreSQL and Redis", () => {
    const secret = one("Secret");
    const data: Record<string, string> = secret.stringData;
    for (const key of ["SCIM_BEARER_TOKENS", "DIGICERT_API_KEY", "DATABASE_URL", "REDIS_URL"]) {
      expect(data[key]).toMatch(/REPLACE/);
    }
    expect(data.DATABASE_URL).toMatch(/^postgres:\/\//);
    expect(data.REDIS_URL).toMatch(/^rediss?:\/\//);
  });

  it("sets only variables the bridge reads, and no secret in the ConfigMap", () => {
    const configMap = one("ConfigMap");
    const secret = one("Secret");
    const keys = [...Object.keys(configMap.data), ...Object.keys(secret.stringData)];
    expect(keys.filter((k) => !KNOWN_ENV.has(k))).toEqual([]);
    for (const key of ["SCIM_BEARER_TOKENS", "DIGICERT_API_KEY", "DATABASE_URL", "REDIS_URL", "OAUTH_SIGNING_KEY"]) {
      expect(configMap.data[key]).toBeUndefined();
    }
  });
});
