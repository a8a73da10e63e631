// A small renderer for this repository's Helm chart, for tests on a machine without helm: Go's text/template
// (text, actions with trim markers, if/else if/else, range over lists and maps with variables, with, define,
// variables, pipelines, parenthesised calls and field access) and the Sprig/Helm functions deploy/helm uses. It is
// not Helm: what it cannot evaluate throws, so a chart change that needs more fails the test instead of passing it.
import { createHash, randomBytes } from "node:crypto";
import { stringify } from "yaml";

type Value = unknown;
type Dict = Record<string, Value>;

// ---- template structure ----

type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; expr: Expr; line: number }
  | { kind: "if"; branches: { cond: Expr; body: Node[] }[]; otherwise: Node[] }
  | { kind: "range"; keyVar?: string; valueVar?: string; expr: Expr; body: Node[]; otherwise: Node[] }
  | { kind: "with"; expr: Expr; body: Node[]; otherwise: Node[] };

/** A pipeline, optionally declaring (`:=`) or assigning (`=`) a variable. */
interface Expr {
  declare?: string;
  /** `=`: assigns the variable of an enclosing scope instead of declaring one. */
  assign?: boolean;
  commands: Operand[][];
}

type Operand =
  | { kind: "field"; base: "dot" | "root" | "var"; name?: string; path: string[] }
  | { kind: "literal"; value: Value }
  | { kind: "func"; name: string }
  | { kind: "sub"; expr: Expr; path: string[] };

interface Token {
  type: "text" | "action";
  value: string;
  line: number;
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^\s+/, "");
    trimNext = false;
    if (open < 0) {
      tokens.push({ type: "text", value: text, line: 0 });
      break;
    }
    const close = src.indexOf("}}", open);
    if (close < 0) throw new Error(`unclosed action at line ${src.slice(0, open).split("\n").length}`);
    let body = src.slice(open + 2, close);
    if (/^-\s/.test(body)) {
      text = text.replace(/\s+$/, "");
      body = body.slice(1);
    }
    if (/\s-$/.test(body)) {
      trimNext = true;
      body = body.slice(0, -1);
    }
    tokens.push({ type: "text", value: text, line: 0 });
    const line = src.slice(0, open).split("\n").length;
    if (!body.trim().startsWith("/*")) tokens.push({ type: "action", value: body.trim(), line });
    i = close + 2;
  }
  return tokens.filter((t) => t.type === "action" || t.value !== "");
}

// ---- expressions ----

interface ExprToken {
  t: "str" | "num" | "word" | "field" | "var" | "(" | ")" | "|" | ":=" | "=" | ",";
  v: string;
  /** Whether whitespace precedes the token. */
  spaced: boolean;
}

function lexExpr(body: string): ExprToken[] {
  const out: ExprToken[] = [];
  let i = 0;
  while (i < body.length) {
    const spaced = i === 0 || /\s/.test(body[i - 1]);
    const c = body[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let s = "";
      while (body[j] !== '"') {
        if (j >= body.length) throw new Error(`unterminated string in {{ ${body} }}`);
        if (body[j] === "\\") {
          const e = body[j + 1];
          s += e === "n" ? "\n" : e === "t" ? "\t" : e;
          j += 2;
        } else s += body[j++];
      }
      out.push({ t: "str", v: s, spaced });
      i = j + 1;
      continue;
    }
    if (c === "`") {
      const j = body.indexOf("`", i + 1);
      out.push({ t: "str", v: body.slice(i + 1, j), spaced });
      i = j + 1;
      continue;
    }
    if (body.startsWith(":=", i)) {
      out.push({ t: ":=", v: ":=", spaced });
      i += 2;
      continue;
    }
    if ("()|=,".includes(c)) {
      out.push({ t: c as ExprToken["t"], v: c, spaced });
      i++;
      continue;
    }
    const m = /^(-?\d+(?:\.\d+)?|\$\w*(?:\.\w+)*|\.(?:\w+(?:\.\w+)*)?|[A-Za-z_]\w*)/.exec(body.slice(i));
    if (!m) throw new Error(`cannot read {{ ${body} }} at "${body.slice(i)}"`);
    const w = m[1];
    out.push({ t: /^-?\d/.test(w) ? "num" : w.startsWith("$") ? "var" : w.startsWith(".") ? "field" : "word", v: w, spaced });
    i += w.length;
  }
  return out;
}

function parseExpr(body: string): Expr {
  const tokens = lexExpr(body);
  let pos = 0;
  const peek = () => tokens[pos];
  const pipeline = (): Expr => {
    const expr: Expr = { commands: [] };
    if (peek()?.t === "var" && (tokens[pos + 1]?.t === ":=" || tokens[pos + 1]?.t === "=")) {
      expr.declare = peek().v.slice(1);
      expr.assign = tokens[pos + 1].t === "=";
      pos += 2;
    }
    let command: Operand[] = [];
    while (pos < tokens.length && peek().t !== ")") {
      const tok = tokens[pos++];
      if (tok.t === "|") {
        expr.commands.push(command);
        command = [];
        continue;
      }
      command.push(operand(tok));
    }
    expr.commands.push(command);
    return expr;
  };
  const fieldPath = (s: string) => s.split(".").filter(Boolean);
  const operand = (tok: ExprToken): Operand => {
    switch (tok.t) {
      case "str":
        return { kind: "literal", value: tok.v };
      case "num":
        return { kind: "literal", value: Number(tok.v) };
      case "field":
        return { kind: "field", base: "dot", path: fieldPath(tok.v) };
      case "var": {
        const [name, ...path] = tok.v.slice(1).split(".");
        return name === "" ? { kind: "field", base: "root", path } : { kind: "field", base: "var", name, path };
      }
      case "word":
        if (tok.v === "true" || tok.v === "false") return { kind: "literal", value: tok.v === "true" };
        if (tok.v === "nil") return { kind: "literal", value: null };
        return { kind: "func", name: tok.v };
      case "(": {
        const expr = pipeline();
        if (tokens[pos++]?.t !== ")") throw new Error(`missing ) in {{ ${body} }}`);
        const next = peek();
        if (next?.t === "field" && !next.spaced) {
          pos++;
          return { kind: "sub", expr, path: fieldPath(next.v) };
        }
        return { kind: "sub", expr, path: [] };
      }
      default:
        throw new Error(`unexpected "${tok.v}" in {{ ${body} }}`);
    }
  };
  const expr = pipeline();
  if (pos < tokens.length) throw new Error(`unexpected "${peek().v}" in {{ ${body} }}`);
  return expr;
}

// ---- parsing the template ----

function parse(src: string, defines: Map<string, Node[]>): Node[] {
  const tokens = tokenize(src);
  let pos = 0;
  /** Parses nodes until one of `stops` (a keyword action); returns the nodes and the stop action. */
  const until = (stops: string[]): { nodes: Node[]; stop?: Token } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const tok = tokens[pos++];
      if (tok.type === "text") {
        nodes.push({ kind: "text", text: tok.value });
        continue;
      }
      const keyword = /^(\w+)/.exec(tok.value)?.[1] ?? "";
      if (stops.includes(keyword)) return { nodes, stop: tok };
      const rest = tok.value.slice(keyword.length).trim();
      if (keyword === "if") nodes.push(ifNode(rest));
      else if (keyword === "range") nodes.push(rangeNode(rest, tok));
      else if (keyword === "with") {
        const body = until(["else", "end"]);
        const otherwise = body.stop?.value === "else" ? until(["end"]).nodes : [];
        nodes.push({ kind: "with", expr: parseExpr(rest), body: body.nodes, otherwise });
      } else if (keyword === "define") {
        const name = JSON.parse(rest);
        defines.set(name, until(["end"]).nodes);
      } else if (["else", "end", "block", "template"].includes(keyword)) {
        throw new Error(`line ${tok.line}: unexpected {{ ${tok.value} }}`);
      } else nodes.push({ kind: "action", expr: parseExpr(tok.value), line: tok.line });
    }
    if (stops.length) throw new Error(`missing {{ end }} (wanted ${stops.join("/")})`);
    return { nodes };
  };
  const ifNode = (cond: string): Node => {
    const branches: { cond: Expr; body: Node[] }[] = [];
    let current = cond;
    for (;;) {
      const part = until(["else", "end"]);
      branches.push({ cond: parseExpr(current), body: part.nodes });
      if (part.stop!.value === "end") return { kind: "if", branches, otherwise: [] };
      const elseRest = part.stop!.value.slice(4).trim();
      if (elseRest.startsWith("if ")) {
        current = elseRest.slice(3);
        continue;
      }
      return { kind: "if", branches, otherwise: until(["end"]).nodes };
    }
  };
  const rangeNode = (rest: string, tok: Token): Node => {
    const m = /^(?:\$(\w+)\s*(?:,\s*\$(\w+))?\s*:=\s*)?([\s\S]+)$/.exec(rest);
    if (!m) throw new Error(`line ${tok.line}: cannot read {{ range ${rest} }}`);
    const [keyVar, valueVar] = m[2] ? [m[1], m[2]] : [undefined, m[1]];
    const body = until(["else", "end"]);
    const otherwise = body.stop?.value === "else" ? until(["end"]).nodes : [];
    return { kind: "range", keyVar, valueVar, expr: parseExpr(m[3]), body: body.nodes, otherwise };
  };
  return until([]).nodes;
}

// ---- evaluation ----

export class TemplateFailure extends Error {}

/** Go's variable scopes: if/range/with bodies see the enclosing variables, declare their own, and `=` assigns outward. */
class Scope {
  private readonly vars = new Map<string, Value>();
  constructor(private readonly parent?: Scope) {}
  has(name: string): boolean {
    return this.vars.has(name) || (this.parent?.has(name) ?? false);
  }
  get(name: string): Value {
    if (this.vars.has(name)) return this.vars.get(name);
    if (this.parent) return this.parent.get(name);
    throw new Error(`undefined variable $${name}`);
  }
  declare(name: string, v: Value): void {
    this.vars.set(name, v);
  }
  assign(name: string, v: Value): void {
    if (this.vars.has(name)) this.vars.set(name, v);
    else if (this.parent) this.parent.assign(name, v);
    else throw new Error(`assignment to undeclared variable $${name}`);
  }
  child(): Scope {
    return new Scope(this);
  }
}

const isDict = (v: Value): v is Dict => v !== null && typeof v === "object" && !Array.isArray(v);

function truthy(v: Value): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  return true;
}

function str(v: Value): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return stringify(v).trimEnd();
}

function goPrintf(format: string, args: Value[]): string {
  let i = 0;
  return format.replace(/%([svdq%])/g, (_, verb: string) => {
    if (verb === "%") return "%";
    const a = args[i++];
    if (verb === "d") return String(Math.trunc(Number(a)));
    if (verb === "q") return JSON.stringify(str(a));
    return str(a);
  });
}

const indentLines = (n: number, s: string) =>
  s
    .split("\n")
    .map((l) => " ".repeat(n) + l)
    .join("\n");

export interface RenderContext {
  Values: Dict;
  Release: { Name: string; Namespace: string; Service: string };
  Chart: Dict;
  Template: { BasePath: string; Name?: string };
}

export class ChartRenderer {
  private readonly defines = new Map<string, Node[]>();
  private readonly files = new Map<string, Node[]>();

  constructor(private readonly templates: Record<string, string>) {
    for (const [name, src] of Object.entries(templates)) this.files.set(name, parse(src, this.defines));
  }

  /** Renders one template file with `ctx`; `fail` throws TemplateFailure. */
  render(file: string, ctx: RenderContext): string {
    const nodes = this.files.get(file);
    if (!nodes) throw new Error(`no template ${file}`);
    const root = { ...ctx, Template: { ...ctx.Template, Name: `${ctx.Template.BasePath}/${file}` } };
    return this.exec(nodes, root, root, new Scope());
  }

  private exec(nodes: Node[], dot: Value, root: Value, vars: Scope): string {
    let out = "";
    for (const node of nodes) {
      switch (node.kind) {
        case "text":
          out += node.text;
          break;
        case "action": {
          const v = this.evalExpr(node.expr, dot, root, vars);
          if (!node.expr.declare) out += v === null || v === undefined ? "" : str(v);
          break;
        }
        case "if": {
          const scope = vars.child();
          const branch = node.branches.find((b) => truthy(this.evalExpr(b.cond, dot, root, scope)));
          out += this.exec(branch ? branch.body : node.otherwise, dot, root, scope);
          break;
        }
        case "with": {
          const v = this.evalExpr(node.expr, dot, root, vars);
          out += truthy(v) ? this.exec(node.body, v, root, vars.child()) : this.exec(node.otherwise, dot, root, vars.child());
          break;
        }
        case "range": {
          const v = this.evalExpr(node.expr, dot, root, vars);
          const entries: [Value, Value][] = Array.isArray(v)
            ? v.map((x, i) => [i, x])
            : isDict(v)
              ? Object.keys(v)
                  .sort()
                  .map((k) => [k, v[k]])
              : [];
          if (!entries.length) out += this.exec(node.otherwise, dot, root, vars.child());
          for (const [k, x] of entries) {
            const scope = vars.child();
            if (node.keyVar) scope.declare(node.keyVar, k);
            if (node.valueVar) scope.declare(node.valueVar, x);
            out += this.exec(node.body, x, root, scope);
          }
          break;
        }
      }
    }
    return out;
  }

  private evalExpr(expr: Expr, dot: Value, root: Value, vars: Scope): Value {
    let piped: Value[] | undefined;
    let result: Value;
    for (const command of expr.commands) {
      result = this.evalCommand(command, piped, dot, root, vars);
      piped = [result];
    }
    if (expr.declare) {
      if (expr.assign) vars.assign(expr.declare, result);
      else vars.declare(expr.declare, result);
    }
    return result;
  }

  private evalCommand(command: Operand[], piped: Value[] | undefined, dot: Value, root: Value, vars: Scope): Value {
    const [head, ...args] = command;
    if (head.kind !== "func") {
      if (args.length || piped) throw new Error("only a function may take arguments");
      return this.operand(head, dot, root, vars);
    }
    if (head.name === "and" || head.name === "or") {
      const all = [...args, ...(piped ? [{ kind: "literal", value: piped[0] } as Operand] : [])];
      let v: Value;
      for (const a of all) {
        v = this.operand(a, dot, root, vars);
        if (head.name === "and" ? !truthy(v) : truthy(v)) return v;
      }
      return v;
    }
    const values = [...args.map((a) => this.operand(a, dot, root, vars)), ...(piped ?? [])];
    return this.call(head.name, values, dot, root);
  }

  private operand(op: Operand, dot: Value, root: Value, vars: Scope): Value {
    const walk = (v: Value, path: string[]) => path.reduce<Value>((acc, key) => (isDict(acc) ? acc[key] : undefined), v);
    switch (op.kind) {
      case "literal":
        return op.value;
      case "func":
        return this.call(op.name, [], dot, root);
      case "sub":
        return walk(this.evalExpr(op.expr, dot, root, vars), op.path);
      case "field":
        if (op.base === "dot") return walk(dot, op.path);
        if (op.base === "root") return walk(root, op.path);
        return walk(vars.get(op.name!), op.path);
    }
  }

  private call(name: string, a: Value[], _dot: Value, root: Value): Value {
    const s = (i: number) => str(a[i]);
    const n = (i: number) => Number(a[i] ?? 0);
    switch (name) {
      case "include": {
        // Helm names every file too (`<chart>/templates/<file>`), so a file can be included by its path.
        const body = this.defines.get(s(0)) ?? this.files.get(s(0).split("/").pop()!);
        if (!body) throw new Error(`no template "${s(0)}"`);
        if (!body.length) return "";
        return this.exec(body, a[1], root, new Scope());
      }
      case "fail":
        throw new TemplateFailure(s(0));
      case "toYaml":
        return a[0] === null || a[0] === undefined ? "null" : stringify(a[0]).trimEnd();
      case "quote":
        return JSON.stringify(s(0));
      case "toString":
        return s(0);
      case "int":
        return Math.trunc(Number(a[0] ?? 0));
      case "default":
        return truthy(a[1]) ? a[1] : a[0];
      case "ternary":
        return truthy(a[2]) ? a[0] : a[1];
      case "not":
        return !truthy(a[0]);
      case "eq":
        return a.slice(1).some((x) => x === a[0]);
      case "ne":
        return a[0] !== a[1];
      case "gt":
        return n(0) > n(1);
      case "lt":
        return n(0) < n(1);
      case "printf":
        return goPrintf(s(0), a.slice(1));
      case "print":
        return a.map(str).join("");
      case "trunc":
        return s(1).slice(0, n(0));
      case "trimSuffix":
        return s(1).endsWith(s(0)) ? s(1).slice(0, s(1).length - s(0).length) : s(1);
      case "hasSuffix":
        return s(1).endsWith(s(0));
      case "contains":
        return s(1).includes(s(0));
      case "replace":
        return s(2).split(s(0)).join(s(1));
      case "lower":
        return s(0).toLowerCase();
      case "indent":
        return indentLines(n(0), s(1));
      case "nindent":
        return "\n" + indentLines(n(0), s(1));
      case "b64enc":
        return Buffer.from(s(0)).toString("base64");
      case "b64dec":
        return Buffer.from(s(0), "base64").toString("utf8");
      case "sha256sum":
        return createHash("sha256").update(s(0)).digest("hex");
      case "randAlphaNum": {
        const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        return [...randomBytes(n(0))].map((b) => alphabet[b % alphabet.length]).join("");
      }
      case "regexMatch":
        return new RegExp(s(0)).test(s(1));
      case "dict": {
        const d: Dict = {};
        for (let i = 0; i < a.length; i += 2) d[s(i)] = a[i + 1];
        return d;
      }
      case "set":
        (a[0] as Dict)[s(1)] = a[2];
        return a[0];
      case "hasKey":
        return isDict(a[0]) && s(1) in a[0];
      case "index":
        return a.slice(1).reduce<Value>((acc, k) => (Array.isArray(acc) ? acc[Number(k)] : isDict(acc) ? acc[str(k)] : undefined), a[0]);
      case "lookup":
        // `helm template` has no cluster either: lookup finds nothing.
        return {};
      default:
        throw new Error(`function "${name}" is not implemented by this renderer`);
    }
  }
}
