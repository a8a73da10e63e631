import { DC_EXT, oktaUser, startHarness, type Harness } from "../../support/harness";
import { verdictOf } from "../../../src/provisioning/job-errors";
import { DigiCertError } from "../../../src/digicert/errors";

// While DigiCert is down the circuit lets one trial call through after each cool-down. A failed trial shows only
// that DigiCert is still down: it must not use up the attempts of the job that happened to make it, or a long
// enough outage fails that job (seen as a rare failed job at the end of test/slow/scim/outage.test.ts).

describe.each(["certcentral", "one"] as const)("a DigiCert outage uses up no job's attempts (%s)", (platform) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      platform,
      env: { SYNC_WAIT_MS: "200", DIGICERT_CIRCUIT_THRESHOLD: "1", DIGICERT_CIRCUIT_COOLDOWN_MS: "1000", OUTBOX_MAX_ATTEMPTS: "2" },
    });
  });
  afterAll(async () => h?.close());

  test("many failed trials later the job is still pending, and it completes once DigiCert is back", async () => {
    h.sim.failNext({ platform, network: "reset", times: 1_000_000 });
    const res = await h.post("/scim/v2/Users", oktaUser());
    expect(res.status).toBe(201);
    expect(res.body[DC_EXT].syncState).toBe("pending");
    // Enough cool-downs for several trials: with 2 attempts allowed, two counted trials would fail the job.
    const trialsBefore = h.sim.calls.length;
    await new Promise((r) => setTimeout(r, 6000));
    expect(h.sim.calls.length - trialsBefore).toBeGreaterThanOrEqual(3);
    expect((await h.bridge.store.outbox.stats()).failed).toBe(0);
    h.sim.clearFaults();
    await h.drain(20_000);
    const row = await h.bridge.store.users.getById(res.body.id);
    expect(row).toMatchObject({ syncState: "synced" });
    expect(h.sim.getUser(platform, row!.digicertId!)).toBeDefined();
  }, 40_000);
});

test("verdict: a failed circuit trial is retried without counting; a failure with the circuit closed counts", () => {
  const trial = new DigiCertError("unavailable", "DigiCert is unreachable");
  trial.duringOutage = true;
  expect(verdictOf(trial)).toMatchObject({ retry: true, countAttempt: false });
  expect(verdictOf(new DigiCertError("unavailable", "DigiCert is unreachable"))).toMatchObject({ retry: true, countAttempt: true });
});
