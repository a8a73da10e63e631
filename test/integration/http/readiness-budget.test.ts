// Issue 19: /readyz answers within a probe's timeout whatever DigiCert does. With DigiCert answering in 12 s (and a
// DigiCert timeout longer than that), each probe is answered in well under 2 s, 200, with DigiCert degraded and
// marked stale, instead of hanging past the Kubernetes probe's 5 s and taking every pod out.
import request from "supertest";
import { startHarness, type Harness } from "../../support/harness";

describe("/readyz while DigiCert answers in 12 s", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ platform: "certcentral", env: { DIGICERT_TIMEOUT_MS: "30000" } });
  });
  afterAll(async () => {
    h.sim.clearFaults();
    await h.close();
  }, 30_000);

  it("answers every probe in < 2 s with 200 and the DigiCert component degraded and stale", async () => {
    h.sim.failNext({ delayMs: 12_000, times: 100 });
    for (let probe = 0; probe < 4; probe++) {
      const started = Date.now();
      const res = await request(h.app).get("/readyz").timeout(5_000);
      const tookMs = Date.now() - started;
      expect(tookMs).toBeLessThan(2_000);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe("ready");
      expect(res.body.components.store).toEqual({ status: "ok" });
      expect(res.body.components.digicert).toMatchObject({ status: "degraded", stale: true });
      expect(res.body.components.digicert.detail).toMatch(/^no answer within 1 s; /);
    }
  }, 30_000);
});
