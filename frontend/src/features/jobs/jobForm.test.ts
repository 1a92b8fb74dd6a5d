import { describe, expect, it } from "vitest";

import type { JobCreate } from "../../services/api/jobs";
import {
  MAX_EXPIRY_HOURS,
  MAX_IN_PROGRESS_TIMEOUT_MINUTES,
  buildJobRequest,
  emptyJobForm,
  type JobFormResult,
  type JobFormState,
} from "./jobForm";

const base = (over: Partial<JobFormState> = {}): JobFormState => ({
  ...emptyJobForm({ type: "device", id: "dev-1" }),
  documentType: "reboot",
  params: '{"delay_s": 5}',
  ...over,
});

/** The request body of a form that must be valid; fails the test with the form's errors otherwise. */
function bodyOf(r: JobFormResult): JobCreate {
  if (!r.ok) throw new Error(`expected a valid form, got errors ${JSON.stringify(r.errors)}`);
  return r.body;
}

/** The errors of a form that must be invalid; fails the test otherwise. */
function errorsOf(r: JobFormResult) {
  if (r.ok) throw new Error(`expected an invalid form, got body ${JSON.stringify(r.body)}`);
  return r.errors;
}

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
    expect(bodyOf(g)).toEqual({ document_type: "reboot", document_params: { delay_s: 5 }, target_all: false, target_group_id: "lab" });
    const all = buildJobRequest(base({ targetType: "all" }));
    expect(bodyOf(all)).toEqual({ document_type: "reboot", document_params: { delay_s: 5 }, target_all: true });
  });

  it("sends a continuous target selection for a group or the fleet, never for one device", () => {
    const g = buildJobRequest(base({ targetType: "group", groupId: "lab", targetSelection: "CONTINUOUS" }));
    expect(bodyOf(g)).toMatchObject({ target_group_id: "lab", target_selection: "CONTINUOUS" });
    const all = buildJobRequest(base({ targetType: "all", targetSelection: "CONTINUOUS" }));
    expect(bodyOf(all)).toMatchObject({ target_all: true, target_selection: "CONTINUOUS" });
    const device = buildJobRequest(base({ targetSelection: "CONTINUOUS" }));
    expect(bodyOf(device)).not.toHaveProperty("target_selection");
    expect(bodyOf(device)).toMatchObject({ target_device_id: "dev-1" });
  });

  it("treats empty params as {} and trims text", () => {
    const r = buildJobRequest(base({ params: "  ", documentType: "  update_config ", jobId: " job_1 " }));
    expect(bodyOf(r)).toEqual({
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
    expect(errorsOf(r).params).toMatch(message);
  });

  it("requires a document type and a target", () => {
    const r = buildJobRequest(base({ documentType: " ", deviceId: "" }));
    expect(errorsOf(r)).toEqual({ documentType: "required, e.g. reboot", target: "choose a device" });
    const g = buildJobRequest(base({ targetType: "group", groupId: "" }));
    expect(errorsOf(g)).toEqual({ target: "choose a group" });
  });

  it("rejects ids the API would reject", () => {
    expect(errorsOf(buildJobRequest(base({ deviceId: "-starts-with-dash" })))).toEqual({ target: "not a valid device id" });
    expect(errorsOf(buildJobRequest(base({ deviceId: "has space" })))).toEqual({ target: "not a valid device id" });
    expect(errorsOf(buildJobRequest(base({ jobId: "bad.job" }))).jobId).toMatch(/at most 64/);
    expect(errorsOf(buildJobRequest(base({ jobId: "x".repeat(65) }))).jobId).toMatch(/at most 64/);
    expect(bodyOf(buildJobRequest(base({ deviceId: "ok-id_1.2:3" }))).target_device_id).toBe("ok-id_1.2:3");
  });

  it.each(["0", "-1", "abc", String(MAX_EXPIRY_HOURS + 1), "Infinity"])("rejects expiry %s", (hours) => {
    const r = buildJobRequest(base({ expiresInHours: hours }));
    expect(errorsOf(r).expiresInHours).toMatch(/hours above 0/);
  });

  it("accepts fractional and maximal expiry", () => {
    const half = buildJobRequest(base({ expiresInHours: "0.5" }));
    expect(bodyOf(half).expires_in_hours).toBe(0.5);
    const max = buildJobRequest(base({ expiresInHours: String(MAX_EXPIRY_HOURS) }));
    expect(bodyOf(max).expires_in_hours).toBe(MAX_EXPIRY_HOURS);
  });

  it.each(["0", "-5", "1.5", "x", String(MAX_IN_PROGRESS_TIMEOUT_MINUTES + 1)])("rejects in-progress timeout %s", (m) => {
    const r = buildJobRequest(base({ inProgressTimeoutMinutes: m }));
    expect(errorsOf(r).inProgressTimeoutMinutes).toMatch(/whole minutes/);
  });

  it("sends the in-progress timeout only when given", () => {
    const with30 = buildJobRequest(base({ inProgressTimeoutMinutes: " 30 " }));
    expect(bodyOf(with30).in_progress_timeout_minutes).toBe(30);
    const none = buildJobRequest(base());
    expect(bodyOf(none)).not.toHaveProperty("in_progress_timeout_minutes");
  });
});
