// The one table printer the CLI's audit, outbox list, reconcile and tokens list share.
import { printTable } from "../../../src/cli/table";

function printed(header: string[], rows: string[][]): string {
  let text = "";
  printTable({ write: (s: string) => (text += s) }, header, rows);
  return text;
}

describe("printTable", () => {
  test("columns padded to their widest cell, two spaces apart; the last column is not padded", () => {
    expect(printed(["ID", "NAME", "NOTE"], [["1", "alice", "x"], ["22", "bo", "a longer note"]])).toBe(
      "ID  NAME   NOTE\n" + "1   alice  x\n" + "22  bo     a longer note\n",
    );
  });

  test("trailing spaces are trimmed when the last cells are empty; a header alone without rows", () => {
    expect(printed(["A", "LONG HEADER", "Z"], [["a", "", ""]])).toBe("A  LONG HEADER  Z\na\n");
    expect(printed(["KIND", "DETAIL"], [])).toBe("KIND  DETAIL\n");
  });
});
