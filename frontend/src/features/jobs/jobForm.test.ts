import { describe, expect, it } from "vitest";

import {
  MAX_EXPIRY_HOURS,
  MAX_IN_PROGRESS_TIMEOUT_MINUTES,
  buildJobRequest,
  emptyJobForm,
  type JobFormState,
} from "./jobForm";

const base = (over: Partial<JobFormState> = {}): JobFormState => ({
  ...emptyJobForm({ type: "device", id: "dev-1" }),
  documentType: "reboot",
  params: '{"delay_s": 5}',
  ...over,
});

describe("buildJobRequest", () => {
  it("builds a device-targeted job with exactly one target", () => {
    const r = buildJobRequest(base({ expiresInHours: "1" }));
    expect(r).toEqual({
      ok: true,
      body: { document_type: "reboot", document_params: { delay_s: 5 }, target_all: false, target_device_id: "dev-1", expires_in_hours: 1 },
    });
  });

  it("builds group and fleet-wide jobs", () => {
    const g = buildJobRequest(base({ targetType: "group", groupId: "lab" }));
    expect(g.ok && g.body).toEqual({ document_type: "reboot", document_params: { delay_s: 5 }, target_all: false, target_group_id: "lab" });
    const all = buildJobRequest(base({ targetType: "all" }));
    expect(all.ok && all.body).toEqual({ document_type: "reboot", document_params: { delay_s: 5 }, target_all: true });
  });

  it("treats empty params as {} and trims text", () => {
    const r = buildJobRequest(base({ params: "  ", documentType: "  update_config ", jobId: " job_1 " }));
    expect(r.ok && r.body).toEqual({
      job_id: "job_1",
      document_type: "update_config",
      document_params: {},
      target_all: false,
      target_device_id: "dev-1",
    });
  });

  it.each([
    ["{not json", /not valid JSON/],
    ["[1, 2]", /must be a JSON object/],
    ["null", /must be a JSON object/],
    ['"text"', /must be a JSON object/],
    [JSON.stringify({ blob: "x".repeat(33 * 1024) }), /larger than 32768 bytes/],
  ])("rejects params %#", (params, message) => {
    const r = buildJobRequest(base({ params }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.params).toMatch(message);
  });

  it("requires a document type and a target", () => {
    const r = buildJobRequest(base({ documentType: " ", deviceId: "" }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.documentType).toBeDefined();
      expect(r.errors.target).toBe("choose a device");
    }
    const g = buildJobRequest(base({ targetType: "group", groupId: "" }));
    expect(!g.ok && g.errors.target).toBe("choose a group");
  });

  it("rejects ids the API would reject", () => {
    expect(buildJobRequest(base({ deviceId: "-starts-with-dash" })).ok).toBe(false);
    expect(buildJobRequest(base({ deviceId: "has space" })).ok).toBe(false);
    expect(buildJobRequest(base({ jobId: "bad.job" })).ok).toBe(false);
    expect(buildJobRequest(base({ jobId: "x".repeat(65) })).ok).toBe(false);
    expect(buildJobRequest(base({ deviceId: "ok-id_1.2:3" })).ok).toBe(true);
  });

  it.each(["0", "-1", "abc", String(MAX_EXPIRY_HOURS + 1), "Infinity"])("rejects expiry %s", (hours) => {
    const r = buildJobRequest(base({ expiresInHours: hours }));
    expect(!r.ok && r.errors.expiresInHours).toMatch(/hours above 0/);
  });

  it("accepts fractional and maximal expiry", () => {
    const half = buildJobRequest(base({ expiresInHours: "0.5" }));
    expect(half.ok && half.body.expires_in_hours).toBe(0.5);
    const max = buildJobRequest(base({ expiresInHours: String(MAX_EXPIRY_HOURS) }));
    expect(max.ok && max.body.expires_in_hours).toBe(MAX_EXPIRY_HOURS);
  });

  it.each(["0", "-5", "1.5", "x", String(MAX_IN_PROGRESS_TIMEOUT_MINUTES + 1)])("rejects in-progress timeout %s", (m) => {
    const r = buildJobRequest(base({ inProgressTimeoutMinutes: m }));
    expect(!r.ok && r.errors.inProgressTimeoutMinutes).toMatch(/whole minutes/);
  });

  it("sends the in-progress timeout only when given", () => {
    const with30 = buildJobRequest(base({ inProgressTimeoutMinutes: " 30 " }));
    expect(with30.ok && with30.body.in_progress_timeout_minutes).toBe(30);
    const none = buildJobRequest(base());
    expect(none.ok && "in_progress_timeout_minutes" in none.body).toBe(false);
  });
});
