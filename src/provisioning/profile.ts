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

/** Checks a DigiCert profile as the platform would (DigiCertClient.validate). */
export type ProfileCheck = (profile: DigiCertUserInput) => FieldProblem[];

const EMAIL_SHAPED = /^[^\s@]+@[^\s@]+$/;

/**
 * The addresses DigiCert could be given, best first: the primary, a work address, the others, and the userName
 * when it is email-shaped (Okta and Entra commonly use the email address as userName).
 */
function emailCandidates(draft: UserDraft): string[] {
  const withValue = draft.emails.filter((e) => e.value);
  const ordered = [
    ...withValue.filter((e) => e.primary),
    ...withValue.filter((e) => !e.primary && (e.type ?? "").toLowerCase() === "work"),
    ...withValue.filter((e) => !e.primary && (e.type ?? "").toLowerCase() !== "work"),
  ].map((e) => e.value);
  if (EMAIL_SHAPED.test(draft.userName)) ordered.push(draft.userName);
  return [...new Set(ordered)];
}

/**
 * The address DigiCert gets: the best candidate it accepts, so a user whose primary address DigiCert would refuse
 * but who has another valid one is provisioned with that one; when it accepts none, the best candidate (whose
 * refusal then names the problem).
 */
function chosenEmail(draft: UserDraft, profile: Omit<DigiCertUserInput, "email">, check?: ProfileCheck): string | null {
  const candidates = emailCandidates(draft);
  if (check) {
    const accepted = candidates.find((email) => !check({ ...profile, email }).some((p) => p.field === "email"));
    if (accepted) return accepted;
  }
  return candidates[0] ?? null;
}

/** Splits a display name when the IdP sent no structured name: "Ada King Lovelace" → Ada / King Lovelace. */
function namesFromDisplay(displayName: string | null): [string | null, string | null] {
  const parts = (displayName ?? "").trim().split(/\s+/).filter(Boolean);
  if (parts.length < 2) return [null, null];
  return [parts[0], parts.slice(1).join(" ")];
}

/**
 * The DigiCert profile a draft asks for; with `check`, the email is the best address the platform accepts. Throws
 * InvalidInputError naming the missing field.
 */
export function profileFromDraft(draft: UserDraft, check?: ProfileCheck): DigiCertUserInput {
  const [displayFirst, displayLast] = namesFromDisplay(draft.displayName);
  const firstName = draft.givenName?.trim() || displayFirst;
  const lastName = draft.familyName?.trim() || displayLast;
  if (!firstName) throw new InvalidInputError("DigiCert requires a first name: send name.givenName", "givenName");
  if (!lastName) throw new InvalidInputError("DigiCert requires a last name: send name.familyName", "familyName");
  const rest = { username: draft.userName, firstName, lastName, jobTitle: draft.jobTitle?.trim() || null, phone: draft.phone?.trim() || null };
  const email = chosenEmail(draft, rest, check);
  if (!email) throw new InvalidInputError("DigiCert requires an email address: send emails", "email");
  return { username: rest.username, firstName, lastName, email, jobTitle: rest.jobTitle, phone: rest.phone };
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
