import type { DigiCertUserInput, FieldProblem } from "../digicert/types";
import { InvalidInputError } from "./errors";
import type { ProfileField, UserDraft } from "./model";

const FIELD_OF_INPUT: Record<keyof DigiCertUserInput, ProfileField> = {
  username: "userName",
  firstName: "givenName",
  lastName: "familyName",
  email: "email",
  jobTitle: "jobTitle",
  phone: "phone",
};

function primaryEmail(draft: UserDraft): string | null {
  const withValue = draft.emails.filter((e) => e.value);
  const chosen =
    withValue.find((e) => e.primary) ?? withValue.find((e) => (e.type ?? "").toLowerCase() === "work") ?? withValue[0];
  if (chosen) return chosen.value;
  // Okta and Entra commonly use the email address as userName; DigiCert requires an email, so fall back to it.
  return /^[^\s@]+@[^\s@]+$/.test(draft.userName) ? draft.userName : null;
}

/** Splits a display name when the IdP sent no structured name: "Ada King Lovelace" → Ada / King Lovelace. */
function namesFromDisplay(displayName: string | null): [string | null, string | null] {
  const parts = (displayName ?? "").trim().split(/\s+/).filter(Boolean);
  if (parts.length < 2) return [null, null];
  return [parts[0], parts.slice(1).join(" ")];
}

/** The DigiCert profile a draft asks for. Throws InvalidInputError naming the missing field. */
export function profileFromDraft(draft: UserDraft): DigiCertUserInput {
  const [displayFirst, displayLast] = namesFromDisplay(draft.displayName);
  const firstName = draft.givenName?.trim() || displayFirst;
  const lastName = draft.familyName?.trim() || displayLast;
  const email = primaryEmail(draft);
  if (!firstName) throw new InvalidInputError("DigiCert requires a first name: send name.givenName", "givenName");
  if (!lastName) throw new InvalidInputError("DigiCert requires a last name: send name.familyName", "familyName");
  if (!email) throw new InvalidInputError("DigiCert requires an email address: send emails", "email");
  return {
    username: draft.userName,
    firstName,
    lastName,
    email,
    jobTitle: draft.jobTitle?.trim() || null,
    phone: draft.phone?.trim() || null,
  };
}

export function rejectProblems(problems: FieldProblem[]): void {
  if (!problems.length) return;
  const first = problems[0];
  const detail = problems.map((p) => `${FIELD_OF_INPUT[p.field]}: ${p.message}`).join("; ");
  throw new InvalidInputError(detail, FIELD_OF_INPUT[first.field]);
}

export function sameProfile(a: DigiCertUserInput, b: DigiCertUserInput): boolean {
  return (
    a.username === b.username &&
    a.firstName === b.firstName &&
    a.lastName === b.lastName &&
    a.email === b.email &&
    (a.jobTitle ?? null) === (b.jobTitle ?? null) &&
    (a.phone ?? null) === (b.phone ?? null)
  );
}
