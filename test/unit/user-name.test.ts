import { userNameKey } from "../../src/user-name";

describe("userNameKey (src/user-name.ts)", () => {
  test.each([
    ["Kate", "\u212Aate", "Kelvin sign"],
    ["José", "Jose\u0301", "NFD"],
    ["JOSÉ", "jose\u0301", "case and NFD"],
    ["wide", "Ｗｉｄｅ", "fullwidth"],
    ["file", "\uFB01le", "ligature"],
    ["İstanbul", "i\u0307stanbul", "dotted capital I, locale-independent"],
  ])("%j and %j share a key (%s)", (a, b) => {
    expect(userNameKey(a)).toBe(userNameKey(b));
  });

  test.each([
    ["STRASSE", "straße"],
    ["Istanbul", "ıstanbul"],
    ['a"b', "ab"],
  ])("%j and %j stay distinct (no full case folding)", (a, b) => {
    expect(userNameKey(a)).not.toBe(userNameKey(b));
  });

  test("a key is its own key, and holds no ASCII capital (0010's duplicate marker relies on it)", () => {
    for (const s of ["Kate", "\u212A", "ＡＢＣ", "ǅ", "Ⅻ", "İ", "ß", "\u00C5", "\u212B"]) {
      const k = userNameKey(s);
      expect(userNameKey(k)).toBe(k);
      expect(k).not.toMatch(/[A-Z]/);
    }
  });
});
