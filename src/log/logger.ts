import winston from "winston";

// Values registered here are replaced wherever they appear in a log line, whatever field carries them:
// a secret that slips into an error message or a URL is still masked.
const secretValues = new Set<string>();
const SECRET_KEYS = /^(authorization|x-api-key|x-dc-devkey|password|token|apiKey|api_key|secret|cookie)$/i;
const MASK = "[REDACTED]";

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secretValues.add(value);
}

/**
 * The text with every registered secret masked: for messages that leave the process other than through the log
 * (DigiCert's error text in a SCIM answer, the audit trail, the outbox, the status page).
 */
export function scrubSecrets(s: string): string {
  let out = s;
  for (const secret of secretValues) if (out.includes(secret)) out = out.split(secret).join(MASK);
  return out;
}

export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrubSecrets(value);
  if (value === null || typeof value !== "object" || depth > 8) return value;
  if (value instanceof Error) return { name: value.name, message: scrubSecrets(value.message) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_KEYS.test(k) ? MASK : redact(v, depth + 1);
  }
  return out;
}

const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    const v = (info as Record<string, unknown>)[key];
    (info as Record<string, unknown>)[key] = SECRET_KEYS.test(key) ? MASK : redact(v);
  }
  return info;
});

export type Logger = winston.Logger;

export function createLogger(level = "info", stream?: NodeJS.WritableStream): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(redactFormat(), winston.format.timestamp(), winston.format.json()),
    transports: [
      stream
        ? new winston.transports.Stream({ stream })
        : new winston.transports.Console({ stderrLevels: [] }),
    ],
  });
}

/** A logger that drops everything: the default for unit tests and library use. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
