// Checks shared by both platforms' validate(): DigiCert's own limits are per platform, the mechanics are not.
import type { DigiCertUserInput, FieldProblem } from "./types";

// Deliberately plain: DigiCert's own check is undocumented, so reject only what no mail system accepts.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

export function isValidEmail(value: string): boolean {
  return EMAIL.test(value);
}

export class ProblemList {
  readonly problems: FieldProblem[] = [];

  required(field: keyof DigiCertUserInput, value: string | null | undefined): boolean {
    if (value === undefined || value === null || value.trim() === "") {
      this.problems.push({ field, message: `${field} is required` });
      return false;
    }
    return true;
  }

  maxLength(field: keyof DigiCertUserInput, value: string | null | undefined, max: number): void {
    if (value && value.length > max) {
      this.problems.push({ field, message: `${field} must be at most ${max} characters (got ${value.length})` });
    }
  }

  email(field: keyof DigiCertUserInput, value: string | null | undefined): void {
    if (value && !isValidEmail(value)) this.problems.push({ field, message: `${field} must be a valid email address` });
  }

  add(field: keyof DigiCertUserInput, message: string): void {
    this.problems.push({ field, message });
  }
}

/** "" and null both mean "no value" on the neutral side. */
export function blankToNull(v: unknown): string | null {
  return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : null;
}
