// RFC 7644 §3.4.2.2 filter grammar, parsed by us. SCIMMY's parser expands filters into OR-of-AND branches and
// gets `not (a or b)` wrong (it yields `not a or not b`), and it cannot read escaped quotes, so the SCIM layer
// reads the filter text itself and keeps the tree as written: grouping, `not`, value paths and all.

export type CompareOp = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";
export type FilterValue = string | number | boolean | null;

/** An attribute path as written: an optional schema URN, the attribute, an optional sub-attribute. */
export interface AttrPath {
  urn?: string;
  attr: string;
  sub?: string;
}

export type FilterAst =
  | { kind: "and" | "or"; left: FilterAst; right: FilterAst }
  | { kind: "not"; expr: FilterAst }
  | { kind: "present"; path: AttrPath }
  | { kind: "compare"; path: AttrPath; op: CompareOp; value: FilterValue }
  /** `emails[type eq "work"]`; with `sub` the extension `emails[type eq "work"].value eq "x"` (then `then` holds it). */
  | { kind: "valuePath"; path: AttrPath; filter: FilterAst; then?: { sub: string; test: { op: CompareOp; value: FilterValue } | { op: "pr" } } };

export class FilterSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FilterSyntaxError";
  }
}

type Token =
  | { t: "word"; v: string; at: number }
  | { t: "string"; v: string; at: number }
  | { t: "("; at: number }
  | { t: ")"; at: number }
  | { t: "["; at: number }
  | { t: "]"; at: number };

const OPS = new Set(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]);
/** Longest filter text parsed: a bound on the work a request can ask for. */
const MAX_LENGTH = 4096;
const MAX_DEPTH = 32;

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
    } else if (c === "(" || c === ")" || c === "[" || c === "]") {
      out.push({ t: c, at: i });
      i++;
    } else if (c === '"') {
      // A JSON string (RFC 7644 compValue): escapes as JSON has them.
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (j >= text.length) throw new FilterSyntaxError(`unterminated string at position ${i + 1}`);
      let v: string;
      try {
        v = JSON.parse(text.slice(i, j + 1)) as string;
      } catch {
        throw new FilterSyntaxError(`invalid string at position ${i + 1}`);
      }
      out.push({ t: "string", v, at: i });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s()[\]"]/.test(text[j])) j++;
      out.push({ t: "word", v: text.slice(i, j), at: i });
      i = j;
    }
  }
  return out;
}

const ATTR_NAME = /^[A-Za-z][\w$-]*$/;

/** `urn:…:User:name.familyName`, `name.familyName`, `userName`, `$ref` (as in members.$ref). */
export function parseAttrPath(raw: string): AttrPath {
  let rest = raw;
  let urn: string | undefined;
  if (/^urn:/i.test(raw)) {
    const cut = raw.lastIndexOf(":");
    urn = raw.slice(0, cut);
    rest = raw.slice(cut + 1);
    if (!rest) throw new FilterSyntaxError(`'${raw}' names a schema but no attribute`);
  }
  const parts = rest.split(".");
  if (parts.length > 2 || !parts.every((p) => ATTR_NAME.test(p) || p === "$ref")) throw new FilterSyntaxError(`'${raw}' is not an attribute path`);
  return { ...(urn ? { urn } : {}), attr: parts[0], ...(parts[1] ? { sub: parts[1] } : {}) };
}

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): FilterAst {
    if (!this.tokens.length) throw new FilterSyntaxError("the filter is empty");
    const e = this.or();
    const extra = this.tokens[this.i];
    if (extra) throw new FilterSyntaxError(`unexpected ${describe(extra)} at position ${extra.at + 1}`);
    return e;
  }

  private peekWord(w: string): boolean {
    const t = this.tokens[this.i];
    return t?.t === "word" && t.v.toLowerCase() === w;
  }

  private or(): FilterAst {
    let left = this.and();
    while (this.peekWord("or")) {
      this.i++;
      left = { kind: "or", left, right: this.and() };
    }
    return left;
  }

  private and(): FilterAst {
    let left = this.unary();
    while (this.peekWord("and")) {
      this.i++;
      left = { kind: "and", left, right: this.unary() };
    }
    return left;
  }

  private unary(): FilterAst {
    if (++this.depth > MAX_DEPTH) throw new FilterSyntaxError(`the filter nests deeper than ${MAX_DEPTH} levels`);
    try {
      const t = this.tokens[this.i];
      if (!t) throw new FilterSyntaxError("the filter ends where an expression was expected");
      if (t.t === "word" && t.v.toLowerCase() === "not") {
        this.i++;
        this.expect("(");
        const expr = this.or();
        this.expect(")");
        return { kind: "not", expr };
      }
      if (t.t === "(") {
        this.i++;
        const expr = this.or();
        this.expect(")");
        return expr;
      }
      if (t.t !== "word") throw new FilterSyntaxError(`unexpected ${describe(t)} at position ${t.at + 1}`);
      this.i++;
      const path = parseAttrPath(t.v);
      if (this.tokens[this.i]?.t === "[") {
        this.i++;
        const filter = this.or();
        this.expect("]");
        const next = this.tokens[this.i];
        // Not in RFC 7644's filter grammar, but sent by clients and allowed in PATCH paths: `emails[…].value eq "x"`.
        if (next?.t === "word" && next.v.startsWith(".")) {
          this.i++;
          const sub = next.v.slice(1);
          if (!ATTR_NAME.test(sub)) throw new FilterSyntaxError(`'${next.v}' is not a sub-attribute`);
          return { kind: "valuePath", path, filter, then: { sub, test: this.test(`${t.v}[…]${next.v}`) } };
        }
        return { kind: "valuePath", path, filter };
      }
      const test = this.test(t.v);
      return test.op === "pr" ? { kind: "present", path } : { kind: "compare", path, op: test.op, value: test.value };
    } finally {
      this.depth--;
    }
  }

  private test(attr: string): { op: CompareOp; value: FilterValue } | { op: "pr" } {
    const opTok = this.tokens[this.i];
    if (opTok?.t !== "word") throw new FilterSyntaxError(`'${attr}' needs an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)`);
    const op = opTok.v.toLowerCase();
    this.i++;
    if (op === "pr") return { op: "pr" };
    if (!OPS.has(op)) throw new FilterSyntaxError(`'${opTok.v}' is not a filter operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)`);
    const v = this.tokens[this.i];
    if (!v || (v.t !== "string" && v.t !== "word")) throw new FilterSyntaxError(`'${attr} ${op}' needs a value`);
    this.i++;
    return { op: op as CompareOp, value: v.t === "string" ? v.v : literal(v.v) };
  }

  private expect(t: "(" | ")" | "]"): void {
    const got = this.tokens[this.i];
    if (got?.t !== t) throw new FilterSyntaxError(got ? `expected '${t}' at position ${got.at + 1}, found ${describe(got)}` : `expected '${t}' before the end`);
    this.i++;
  }
}

function literal(w: string): FilterValue {
  const lw = w.toLowerCase();
  if (lw === "true") return true;
  if (lw === "false") return false;
  if (lw === "null") return null;
  if (/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(w)) return Number(w);
  // RFC 7644 wants strings quoted, but Microsoft's reference server and its test collection take a bare word
  // (`name.familyName eq Employee`, `meta.created gt 2015-10-10T14:38:21Z`) as the string it spells.
  return w;
}

function describe(t: Token): string {
  return t.t === "word" ? `'${t.v}'` : t.t === "string" ? `string ${JSON.stringify(t.v)}` : `'${t.t}'`;
}

export function parseFilter(text: string): FilterAst {
  if (text.length > MAX_LENGTH) throw new FilterSyntaxError(`the filter is longer than ${MAX_LENGTH} characters`);
  return new Parser(tokenize(text)).parse();
}
