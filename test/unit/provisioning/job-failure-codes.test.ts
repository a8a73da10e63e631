import { jobFailureCause, jobFailureCode } from "../../../src/provisioning/job-failure-codes";
import type { JobFailureCause } from "../../../src/provisioning/records";

describe("job failure codes (the outbox's error_kind column)", () => {
  it("reads every code earlier versions wrote", () => {
    expect(jobFailureCause("digicert:validation")).toEqual({ source: "digicert", kind: "validation" });
    expect(jobFailureCause("digicert:rate_limited")).toEqual({ source: "digicert", kind: "rate_limited" });
    expect(jobFailureCause("conflict")).toEqual({ source: "conflict" });
    expect(jobFailureCause("invalid:email")).toEqual({ source: "invalid", field: "email" });
    expect(jobFailureCause("invalid")).toEqual({ source: "invalid" });
    expect(jobFailureCause("misconfigured")).toEqual({ source: "misconfigured" });
    expect(jobFailureCause("internal")).toEqual({ source: "internal" });
  });

  it("round-trips every cause", () => {
    const causes: JobFailureCause[] = [
      { source: "digicert", kind: "unavailable" },
      { source: "conflict" },
      { source: "invalid", field: "givenName" },
      { source: "invalid" },
      { source: "misconfigured" },
      { source: "internal" },
    ];
    for (const c of causes) expect(jobFailureCause(jobFailureCode(c))).toEqual(c);
  });

  it("reads a code it does not know as the nearest cause", () => {
    expect(jobFailureCause("digicert:teapot")).toEqual({ source: "digicert", kind: "unexpected" });
    expect(jobFailureCause("something-new")).toEqual({ source: "internal" });
  });
});
