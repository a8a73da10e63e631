// One primary per attribute and no duplicate entries, after SCIMMY applied a write (RFC 7643 §2.4, RFC 7644 §3.5.2.1).
import { settleMultiValued } from "../../../src/scim/multi-valued";

describe("settleMultiValued", () => {
  test("POST/PUT (nothing to compare with): the last primary sent stays primary, per attribute", () => {
    const out = settleMultiValued({
      emails: [{ value: "a@x.com", primary: true }, { value: "b@x.com", primary: true }, { value: "c@x.com" }],
      phoneNumbers: [{ value: "1", primary: true }],
    });
    expect(out.emails).toEqual([{ value: "a@x.com" }, { value: "b@x.com", primary: true }, { value: "c@x.com" }]);
    expect(out.phoneNumbers).toEqual([{ value: "1", primary: true }]);
  });

  test("PATCH: the entry that became primary keeps it, wherever it is in the list", () => {
    const before = { emails: [{ value: "b@x.com", type: "work", primary: true }, { value: "a@x.com", type: "home" }] };
    const after = { emails: [{ value: "a@x.com", type: "home", primary: true }, { value: "b@x.com", type: "work", primary: true }] };
    expect(settleMultiValued(after, before).emails).toEqual([{ value: "a@x.com", type: "home", primary: true }, { value: "b@x.com", type: "work" }]);
  });

  test("an email added again (value and type in another case) is merged into the first; other attributes compare values exactly", () => {
    const out = settleMultiValued({
      emails: [{ value: "a@x.com", type: "work", primary: true }, { value: "A@X.COM", type: "Work", display: "A" }],
      phoneNumbers: [{ value: "+1 555", type: "work" }, { value: "+1 555", type: "work" }, { value: "+1 555", type: "home" }],
      addresses: [{ type: "work", locality: "Lehi" }, { locality: "Lehi", type: "work", primary: true }],
    });
    expect(out.emails).toEqual([{ value: "a@x.com", type: "work", primary: true, display: "A" }]);
    expect(out.phoneNumbers).toEqual([{ value: "+1 555", type: "work" }, { value: "+1 555", type: "home" }]);
    expect(out.addresses).toEqual([{ type: "work", locality: "Lehi", primary: true }]);
  });

  test("the input is not modified", () => {
    const input = { emails: [{ value: "a@x.com", primary: true }, { value: "b@x.com", primary: true }] };
    const copy = structuredClone(input);
    settleMultiValued(input);
    expect(input).toEqual(copy);
  });
});
