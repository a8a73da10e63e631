// A 400 for invalid input names each SCIM attribute once (never "userName: userName: …").
import { failureOf } from "../../../src/scim/errors";
import { InvalidInputError } from "../../../src/provisioning/errors";
import { rejectProblems } from "../../../src/provisioning/profile";

const detailOf = (fn: () => void): string => {
  try {
    fn();
  } catch (err) {
    return failureOf(err).detail;
  }
  throw new Error("did not throw");
};

test("the profile checks' problems name the SCIM attribute once each", () => {
  const detail = detailOf(() =>
    rejectProblems([
      { field: "username", message: "must be at most 128 characters" },
      { field: "firstName", message: "is required" },
    ]),
  );
  expect(detail).toBe("userName: must be at most 128 characters; name.givenName: is required");
});

test("a message without a field in front gets its field's attribute", () => {
  expect(failureOf(new InvalidInputError("is not an address DigiCert accepts", "email")).detail).toBe("emails: is not an address DigiCert accepts");
  expect(failureOf(new InvalidInputError("roles: no DigiCert role with id 9", "roles")).detail).toBe("roles: no DigiCert role with id 9");
});

test("a job's error rebuilt from its stored message is not prefixed again", () => {
  expect(failureOf(new InvalidInputError("userName: username may only contain a-z A-Z 0-9 @ - _ + .", "userName")).detail).toBe(
    "userName: username may only contain a-z A-Z 0-9 @ - _ + .",
  );
});
