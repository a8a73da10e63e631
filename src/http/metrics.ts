import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface HttpMetrics {
  registry: Registry;
  observe(resource: string, method: string, status: number, seconds: number): void;
}

/** One registry per app, so tests can build several apps in one process without clashing names. */
export function createMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: "scim_requests_total",
    help: "SCIM requests by resource, method and status",
    labelNames: ["resource", "method", "status"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "scim_request_duration_seconds",
    help: "SCIM request latency",
    labelNames: ["resource", "method"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    observe(resource, method, status, seconds) {
      // Unknown paths would otherwise blow up label cardinality.
      const r = /^(Users|Groups|Schemas|ResourceTypes|ServiceProviderConfig|healthz|readyz|metrics)$/.test(resource.replace(/^\//, ""))
        ? resource.replace(/^\//, "")
        : "other";
      requests.inc({ resource: r, method, status: String(status) });
      latency.observe({ resource: r, method }, seconds);
    },
  };
}
