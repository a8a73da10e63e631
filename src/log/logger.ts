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

/** What stands in for a value nested deeper than a walk goes (a 10,000-level body must not overflow the stack). */
export const TOO_DEEP = "[nested too deeply]";
/** Levels a masked copy keeps; deeper values become TOO_DEEP. */
export const MAX_MASK_DEPTH = 64;

export interface MaskOptions {
  /** Keys whose values are never kept, at any depth. */
  secretKey: (key: string) => boolean;
  maxDepth?: number;
}

/**
 * A copy of `value` with registered secret values scrubbed from every string, the values of secret-named keys
 * masked at any depth, and whatever lies deeper than `maxDepth` replaced by TOO_DEEP. Iterative, so no input
 * can exhaust the stack; the one walker behind the log redactor and the audit trail's masking.
 */
export function maskDeep(value: unknown, opts: MaskOptions): unknown {
  const maxDepth = opts.maxDepth ?? MAX_MASK_DEPTH;
  const root: Record<string, unknown> = {};
  const todo: { src: unknown; into: Record<string | number, unknown>; key: string | number; depth: number }[] = [
    { src: value, into: root, key: "v", depth: 0 },
  ];
  while (todo.length) {
    const { src, into, key, depth } = todo.pop()!;
    if (typeof src === "string") into[key] = scrubSecrets(src);
    else if (src === null || typeof src !== "object") into[key] = src;
    else if (src instanceof Error) into[key] = { name: src.name, message: scrubSecrets(src.message) };
    else if (depth >= maxDepth) into[key] = TOO_DEEP;
    else if (Array.isArray(src)) {
      const copy: unknown[] = new Array(src.length);
      into[key] = copy;
      src.forEach((v, i) => todo.push({ src: v, into: copy as unknown as Record<number, unknown>, key: i, depth: depth + 1 }));
    } else {
      const copy: Record<string, unknown> = {};
      into[key] = copy;
      for (const [k, v] of Object.entries(src as Record<string, unknown>)) {
        // Set now (not when popped) so the copy keeps the keys' order.
        copy[k] = opts.secretKey(k) ? MASK : undefined;
        if (!opts.secretKey(k)) todo.push({ src: v, into: copy, key: k, depth: depth + 1 });
      }
    }
  }
  return root.v;
}

const isLogSecretKey = (k: string) => SECRET_KEYS.test(k);

export function redact(value: unknown): unknown {
  return maskDeep(value, { secretKey: isLogSecretKey });
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
