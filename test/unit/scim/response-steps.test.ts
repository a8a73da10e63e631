import express from "express";
import request from "supertest";
import { onAnswer } from "../../../src/scim/response-steps";

describe("response steps", () => {
  test("run once per answer, nearest the handler first, async ones before the answer is written", async () => {
    const seen: string[] = [];
    const app = express();
    app.use((_req, res, next) => {
      onAnswer(res, (answer) => {
        seen.push(`outer:${JSON.stringify(answer.body)}`);
      });
      next();
    });
    app.use((_req, res, next) => {
      onAnswer(res, async (answer, r) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen.push("inner");
        r.set("X-Step", "done");
        answer.body = { ...(answer.body as object), cut: true };
      });
      next();
    });
    app.get("/x", (_req, res) => {
      res.status(201).send({ id: "1" });
    });
    const res = await request(app).get("/x");
    expect(res.status).toBe(201);
    expect(res.headers["x-step"]).toBe("done");
    expect(res.body).toEqual({ id: "1", cut: true });
    // Express sends an object a second time as JSON: the steps saw it once.
    expect(seen).toEqual(["inner", 'outer:{"id":"1","cut":true}']);
  });
});
