// The CLI's plain-text tables (audit, outbox list, reconcile, tokens list): columns padded to their widest cell,
// two spaces apart, the last column unpadded and trailing spaces trimmed.
import { line, type Output } from "./common";

export function printTable(out: Output, header: string[], rows: string[][]): void {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const render = (cells: string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd();
  line(out, render(header));
  for (const r of rows) line(out, render(r));
}
