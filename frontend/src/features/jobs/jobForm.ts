// The Create Job form: its state, and the checks the operator API would make, done before sending.

import type { JobCreate } from "../../services/api/jobs";

export type TargetType = "device" | "group" | "all";
/** SNAPSHOT: the target's devices as of creation; CONTINUOUS: also those that join later (group or fleet). */
export type TargetSelection = JobCreate["target_selection"];

export interface JobFormState {
  jobId: string;
  documentType: string;
  params: string; // JSON object text; empty means {}
  targetType: TargetType;
  deviceId: string;
  groupId: string;
  targetSelection: TargetSelection; // sent (when CONTINUOUS) for a group or the fleet only
  expiresInHours: string; // empty means no expiry
  inProgressTimeoutMinutes: string; // empty means no in-progress timeout
}

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const MAX_EXPIRY_HOURS = 24 * 366;
export const MAX_IN_PROGRESS_TIMEOUT_MINUTES = 7 * 24 * 60;
export const MAX_PARAMS_BYTES = 32 * 1024;

/** Suggested document types; any other text is allowed too. Picking one fills in example params. */
export const DOCUMENT_PRESETS: Record<string, string> = {
  reboot: '{\n  "delay_s": 5\n}',
  update_config: '{\n  "log_level": "debug"\n}',
  firmware_update: '{\n  "version": "1.2.3",\n  "url": "https://example.com/fw.bin"\n}',
  factory_reset: "{}",
};

export function emptyJobForm(target?: { type: TargetType; id?: string }): JobFormState {
  return {
    jobId: "",
    documentType: "",
    params: "{}",
    targetType: target?.type ?? "device",
    deviceId: target?.type === "device" ? (target.id ?? "") : "",
    groupId: target?.type === "group" ? (target.id ?? "") : "",
    targetSelection: "SNAPSHOT",
    expiresInHours: "",
    inProgressTimeoutMinutes: "",
  };
}

export type JobFormErrors = Partial<
  Record<"jobId" | "documentType" | "params" | "target" | "expiresInHours" | "inProgressTimeoutMinutes", string>
>;

export type JobFormResult = { ok: true; body: JobCreate } | { ok: false; errors: JobFormErrors };

/** The params text checked as the operator types: `{}` when empty, else a JSON object of bounded size. */
export function parseParams(text: string): { value?: Record<string, unknown>; error?: string } {
  if (!text.trim()) return { value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { error: `not valid JSON: ${(err as Error).message}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { error: "must be a JSON object, like {\"delay_s\": 5}" };
  }
  const size = new TextEncoder().encode(JSON.stringify(value)).length;
  if (size > MAX_PARAMS_BYTES) return { error: `larger than ${MAX_PARAMS_BYTES} bytes as JSON (${size})` };
  return { value: value as Record<string, unknown> };
}

/** Validates the form and builds the request body with exactly one target. */
export function buildJobRequest(form: JobFormState): JobFormResult {
  const errors: JobFormErrors = {};
  const body: Partial<JobCreate> = { target_all: false };

  const jobId = form.jobId.trim();
  if (jobId) {
    if (JOB_ID_PATTERN.test(jobId)) body.job_id = jobId;
    else errors.jobId = "letters, digits, '_' or '-', at most 64";
  }

  const documentType = form.documentType.trim();
  if (!documentType) errors.documentType = "required, e.g. reboot";
  else if (documentType.length > 100) errors.documentType = "at most 100 characters";
  else body.document_type = documentType;

  const params = parseParams(form.params);
  if (params.error) errors.params = params.error;
  else body.document_params = params.value;

  if (form.targetType === "device") {
    const id = form.deviceId.trim();
    if (!id) errors.target = "choose a device";
    else if (!ID_PATTERN.test(id)) errors.target = "not a valid device id";
    else body.target_device_id = id;
  } else if (form.targetType === "group") {
    const id = form.groupId.trim();
    if (!id) errors.target = "choose a group";
    else if (!ID_PATTERN.test(id)) errors.target = "not a valid group id";
    else body.target_group_id = id;
  } else {
    body.target_all = true;
  }
  // SNAPSHOT is the API's default; CONTINUOUS only means something for a group or the fleet
  if (form.targetType !== "device" && form.targetSelection === "CONTINUOUS") body.target_selection = "CONTINUOUS";

  const hours = checkExpiryHours(form.expiresInHours);
  if (hours.error) errors.expiresInHours = hours.error;
  else if (hours.value !== undefined) body.expires_in_hours = hours.value;

  const minutes = checkTimeoutMinutes(form.inProgressTimeoutMinutes);
  if (minutes.error) errors.inProgressTimeoutMinutes = minutes.error;
  else if (minutes.value !== undefined) body.in_progress_timeout_minutes = minutes.value;

  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, body: body as JobCreate };
}

/** An optional number field: nothing when empty, else its value when `check` holds, else `message`. */
function optionalNumber(text: string, check: (n: number) => boolean, message: string): { value?: number; error?: string } {
  const t = text.trim();
  if (!t) return {};
  const n = Number(t);
  return Number.isFinite(n) && check(n) ? { value: n } : { error: message };
}

/** `expires_in_hours` as the API accepts it (empty: no expiry). Shared by Create Job and Create Template. */
export function checkExpiryHours(text: string): { value?: number; error?: string } {
  return optionalNumber(text, (n) => n > 0 && n <= MAX_EXPIRY_HOURS, `a number of hours above 0, at most ${MAX_EXPIRY_HOURS}`);
}

/** `in_progress_timeout_minutes` as the API accepts it (empty: none). Shared by Create Job and Create Template. */
export function checkTimeoutMinutes(text: string): { value?: number; error?: string } {
  return optionalNumber(
    text,
    (n) => Number.isInteger(n) && n >= 1 && n <= MAX_IN_PROGRESS_TIMEOUT_MINUTES,
    `whole minutes, 1 to ${MAX_IN_PROGRESS_TIMEOUT_MINUTES}`,
  );
}
