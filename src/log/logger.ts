import winston from "winston";

// Values registered here are replaced wherever they appear in a log line, whatever field carries them:
// a secret that slips into an error message or a URL is still masked.
const secretValues = new Set<string>();
const SECRET_KEYS = /^(authorization|x-api-key|x-dc-devkey|password|token|apiKey|api_key|secret|cookie)$/i;
const MASK = "[REDACTED]";

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secretValues.add(value);
}

function scrubString(s: string): string {
  let out = s;
  for (const secret of secretValues) if (out.includes(secret)) out = out.split(secret).join(MASK);
  return out;
}

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrubString(value);
  if (value === null || typeof value !== "object" || depth > 8) return value;
  if (value instanceof Error) return { name: value.name, message: scrubString(value.message) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEYS.test(k) ? MASK : redact(v, depth + 1);
  }
  return out;
}

const redactField = (key: string, v: unknown) => (SECRET_KEYS.test(key) ? MASK : redact(v));

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const v = (info as Record<string, unknown>)[key];
    (info as Record<string, unknown>)[key] = redactField(key, v);
  }
  return info;
});

export type Logger = winston.Logger;

/** Where each logger made by createLogger writes its lines (see logLine). */
const destinations = new WeakMap<Logger, NodeJS.WritableStream>();

export function createLogger(level = "info", stream?: NodeJS.WritableStream): Logger {
  const logger = winston.createLogger({
    level,
    format: winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json()),
    transports: [
      stream
        ? new winston.transports.Stream({ stream })
        : new winston.transports.Console({ stderrLevels: [] }),
    ],
  });
  destinations.set(logger, stream ?? process.stdout);
  return logger;
}

/**
 * Logs one line, as `logger.log(level, message, fields)` would write it (redacted, timestamped, keys sorted, one
 * JSON line), straight to the logger's destination. Passing a line through winston's object streams costs several
 * times writing it, and the request line is written for every request. Loggers not made by createLogger (silent
 * ones, children) take the ordinary way.
 */
export function logLine(logger: Logger, level: string, message: string, fields: Record<string, unknown>): void {
  if (!logger.isLevelEnabled(level)) return;
  const out = destinations.get(logger);
  if (!out) {
    logger.log(level, message, fields);
    return;
  }
  const line: Record<string, unknown> = { ...fields, level, message, timestamp: new Date().toISOString() };
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(line).sort()) sorted[key] = redactField(key, line[key]);
  out.write(`${JSON.stringify(sorted)}\n`);
}

/** A logger that drops everything: the default for unit tests and library use. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
