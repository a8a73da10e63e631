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

/** LOG_FORMAT: one JSON object a line (for collectors), or `pretty` (for a terminal: time level message key=value…). */
export type LogFormat = "json" | "pretty";
export const LOG_FORMATS: readonly LogFormat[] = ["json", "pretty"];

export interface LoggerOptions {
  format?: LogFormat;
  /** Pretty only: colour the level and keys. Default: when the destination is a TTY. */
  colours?: boolean;
}

// ANSI colours of the pretty format; nothing else in the line is coloured.
const RESET = "\x1b[0m";
const DIM = "\x1b[2m";
const LEVEL_COLOURS: Record<string, string> = { error: "\x1b[31m", warn: "\x1b[33m", info: "\x1b[32m", http: "\x1b[36m", verbose: "\x1b[36m", debug: "\x1b[34m", silly: "\x1b[35m" };
const HEAD_FIELDS = new Set(["timestamp", "level", "message"]);
// A value written bare must not be mistaken for two fields or break the line; anything else is quoted as JSON.
const BARE = /^[^\s"=\\\x00-\x1f\x7f]+$/;

const CONTROL = /[\x00-\x1f\x7f]/;

/** The message as it reads, unless it holds a line break or other control character: then JSON-quoted. */
function prettyMessage(m: string): string {
  return CONTROL.test(m) ? JSON.stringify(m) : m;
}

function prettyValue(v: unknown): string {
  if (typeof v === "string") return BARE.test(v) ? v : JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  return JSON.stringify(v) ?? String(v);
}

/**
 * One event as one terminal line: `time level message key=value…`, fields in the order given. Field strings with spaces,
 * quotes or control characters (a stack's newlines) are JSON-quoted, objects written as JSON: never a second line.
 * The fields are redacted by the caller, as for JSON.
 */
export function prettyLine(timestamp: string, level: string, message: string, fields: Record<string, unknown>, colours: boolean): string {
  const lvl = level.padEnd(5);
  let out = colours ? `${DIM}${timestamp}${RESET} ${LEVEL_COLOURS[level] ?? ""}${lvl}${RESET} ${prettyMessage(message)}` : `${timestamp} ${lvl} ${prettyMessage(message)}`;
  for (const key of Object.keys(fields)) {
    const v = fields[key];
    if (v === undefined || HEAD_FIELDS.has(key)) continue;
    out += colours ? ` ${DIM}${key}=${RESET}${prettyValue(v)}` : ` ${key}=${prettyValue(v)}`;
  }
  return out;
}

const prettyFormat = (colours: boolean) =>
  winston.format.printf((info) => {
    const fields = info as Record<string, unknown>;
    return prettyLine(String(fields.timestamp ?? new Date().toISOString()), String(info.level), String(fields.message ?? ""), fields, colours);
  });

/** Where each logger made by createLogger writes its lines, and how (see logLine). */
const destinations = new WeakMap<Logger, { out: NodeJS.WritableStream; pretty: { colours: boolean } | null }>();

export function createLogger(level = "info", stream?: NodeJS.WritableStream, opts: LoggerOptions = {}): Logger {
  const out = stream ?? process.stdout;
  const pretty = opts.format === "pretty" ? { colours: opts.colours ?? (out as { isTTY?: boolean }).isTTY === true } : null;
  const logger = winston.createLogger({
    level,
    format: winston.format.combine(redactFormat(), winston.format.timestamp(), pretty ? prettyFormat(pretty.colours) : winston.format.json()),
    transports: [
      stream
        ? new winston.transports.Stream({ stream })
        : new winston.transports.Console({ stderrLevels: [] }),
    ],
  });
  destinations.set(logger, { out, pretty });
  return logger;
}

/**
 * Logs one line, as `logger.log(level, message, fields)` would write it (redacted, timestamped, in the logger's
 * format: keys sorted in one JSON line, or the pretty line), straight to the logger's destination. Passing a line
 * through winston's object streams costs several times writing it, and the request line is written for every
 * request. Loggers not made by createLogger (silent ones, children) take the ordinary way.
 */
export function logLine(logger: Logger, level: string, message: string, fields: Record<string, unknown>): void {
  if (!logger.isLevelEnabled(level)) return;
  const dest = destinations.get(logger);
  if (!dest) {
    logger.log(level, message, fields);
    return;
  }
  const timestamp = new Date().toISOString();
  if (dest.pretty) {
    const redacted: Record<string, unknown> = {};
    for (const key of Object.keys(fields)) redacted[key] = redactField(key, fields[key]);
    dest.out.write(`${prettyLine(timestamp, level, scrubSecrets(message), redacted, dest.pretty.colours)}\n`);
    return;
  }
  const line: Record<string, unknown> = { ...fields, level, message, timestamp };
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(line).sort()) sorted[key] = redactField(key, line[key]);
  dest.out.write(`${JSON.stringify(sorted)}\n`);
}

/** A logger that drops everything: the default for unit tests and library use. */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}
