// What two userNames are compared by: one rule for uniqueness in the store, lookups and `userName` filters, and
// the adoption look-up of DigiCert users. A leaf module (like version.ts), imported by the store, the domain and
// the DigiCert clients alike.

/**
 * The key a userName is compared by: Unicode NFKC (compatibility forms fold to their plain letters: the Kelvin
 * sign K (U+212A) to K, fullwidth ｋ to k, the ligature ﬁ to fi; NFD `e` + U+0301 composes to é), then lower-cased
 * by Unicode's default, locale-independent mapping (JavaScript's toLowerCase: no Turkish dotless-i rules), then
 * NFC again (lower-casing can decompose: İ becomes i + U+0307). Not full case folding: ß stays ß (STRASSE and
 * straße differ), final ς stays ς. Two userNames with the same key are the same user.
 */
export function userNameKey(userName: string): string {
  return userName.normalize("NFKC").toLowerCase().normalize("NFC");
}
