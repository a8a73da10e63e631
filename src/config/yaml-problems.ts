// What the YAML files of the configuration (ROLE_MAPPING_FILE, TENANTS_FILE) share in reporting: every problem
// with its line, in file order, so an admin fixes the file top to bottom from one start's output.
import { isAlias, LineCounter, type Document, type Node } from "yaml";

export class YamlProblems {
  private readonly found: { line: number; text: string }[] = [];
  doc?: Document;

  /** `prefix` begins every message: what the file is, as the admin named it (e.g. `TENANTS_FILE: tenants.yaml`). */
  constructor(
    protected readonly prefix: string,
    readonly lines = new LineCounter(),
  ) {}

  line(node: Node | null | undefined, fallback = 1): number {
    const offset = node?.range?.[0];
    return offset === undefined ? fallback : this.lines.linePos(offset).line;
  }

  problem(line: number, field: string, message: string): void {
    this.found.push({ line, text: `${this.prefix} line ${line}: ${field}: ${message}` });
  }

  syntax(line: number, col: number, message: string): void {
    this.found.push({ line, text: `${this.prefix} line ${line}, column ${col}: YAML syntax error: ${message}` });
  }

  get count(): number {
    return this.found.length;
  }

  /** In file order, which is how an admin fixes them (the checks themselves run key by key). */
  get problems(): string[] {
    return [...this.found].sort((a, b) => a.line - b.line).map((p) => p.text);
  }

  /** Anchors and aliases (an admin reusing a list) behave like the node they name. */
  deref(node: unknown): Node | null {
    let n = node as Node | null;
    for (let i = 0; n && isAlias(n) && i < 16; i++) n = (this.doc ? (n.resolve(this.doc) as Node | undefined) : undefined) ?? null;
    return n;
  }
}
