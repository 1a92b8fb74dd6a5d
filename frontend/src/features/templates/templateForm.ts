// The Create Template form and the Create Job from Template form: their state and the checks the operator API
// would make, done before sending. A template's document may hold AWS's placeholders
// `${aws:iot:parameter:NAME}`; a job made from it gives a value for each.

import type { JobCreate } from "../../services/api/jobs";
import type { TemplateCreate } from "../../services/api/templates";
import { checkExpiryHours, checkTimeoutMinutes, ID_PATTERN, JOB_ID_PATTERN, parseParams, type TargetType } from "../jobs/jobForm";
import type { RolloutConfigs } from "../jobs/rolloutForm";

/** AWS's placeholder syntax (as the server's shared/jobs/templates.py). */
export const PLACEHOLDER = /\$\{aws:iot:parameter:([A-Za-z0-9_-]{1,128})\}/g;
export const MAX_DESCRIPTION = 2000;
export const MAX_PARAMETER_VALUE = 512;

/** The placeholders' names in the string values of a JSON value, sorted (what the API answers as `parameters`). */
export function placeholders(value: unknown): string[] {
  const found = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === "string") for (const m of v.matchAll(PLACEHOLDER)) found.add(m[1]!);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(value);
  return [...found].sort();
}

export interface TemplateFormState {
  templateId: string;
  description: string;
  documentType: string;
  document: string; // JSON object text; empty means {}
  expiresInHours: string;
  inProgressTimeoutMinutes: string;
}

export const emptyTemplateForm = (): TemplateFormState => ({
  templateId: "",
  description: "",
  documentType: "",
  document: '{\n  "url": "https://fw.example/${aws:iot:parameter:version}/image.bin"\n}',
  expiresInHours: "",
  inProgressTimeoutMinutes: "",
});

export type TemplateFormErrors = Partial<Record<keyof TemplateFormState, string>>;

/** Validates the form and builds the request body (with the default configs already checked by rolloutForm). */
export function buildTemplateRequest(
  form: TemplateFormState,
  configs: RolloutConfigs,
): { ok: true; body: TemplateCreate } | { ok: false; errors: TemplateFormErrors } {
  const errors: TemplateFormErrors = {};
  const templateId = form.templateId.trim();
  if (!templateId) errors.templateId = "required: letters, digits, '_' or '-', at most 64";
  else if (!JOB_ID_PATTERN.test(templateId)) errors.templateId = "letters, digits, '_' or '-', at most 64";
  if (form.description.length > MAX_DESCRIPTION) errors.description = `at most ${MAX_DESCRIPTION} characters`;
  const documentType = form.documentType.trim();
  if (!documentType) errors.documentType = "required, e.g. firmware_update";
  else if (documentType.length > 100) errors.documentType = "at most 100 characters";
  const document = parseParams(form.document);
  if (document.error) errors.document = document.error;
  const hours = checkExpiryHours(form.expiresInHours);
  if (hours.error) errors.expiresInHours = hours.error;
  const minutes = checkTimeoutMinutes(form.inProgressTimeoutMinutes);
  if (minutes.error) errors.inProgressTimeoutMinutes = minutes.error;
  if (Object.keys(errors).length) return { ok: false, errors };

  const body: TemplateCreate = { template_id: templateId, description: form.description, document_type: documentType, document: document.value ?? {} };
  if (hours.value !== undefined) body.expires_in_hours = hours.value;
  if (minutes.value !== undefined) body.in_progress_timeout_minutes = minutes.value;
  if (Object.keys(configs).length) body.configs = configs;
  return { ok: true, body };
}

export interface FromTemplateState {
  values: Record<string, string>;
  targetType: TargetType;
  deviceId: string;
  groupId: string;
  jobId: string;
}

export type FromTemplateErrors = Partial<Record<"jobId" | "target", string>> & { values?: Record<string, string> };

/** The body of `POST /customer/jobs` for a job made from a template: every parameter's value and one target. */
export function buildJobFromTemplate(
  templateId: string,
  parameters: readonly string[],
  form: FromTemplateState,
): { ok: true; body: JobCreate } | { ok: false; errors: FromTemplateErrors } {
  const errors: FromTemplateErrors = {};
  const values: Record<string, string> = {};
  const valueErrors: Record<string, string> = {};
  for (const name of parameters) {
    const v = form.values[name] ?? "";
    if (!v) valueErrors[name] = "required";
    else if (v.length > MAX_PARAMETER_VALUE) valueErrors[name] = `at most ${MAX_PARAMETER_VALUE} characters`;
    else values[name] = v;
  }
  if (Object.keys(valueErrors).length) errors.values = valueErrors;
  const body: Partial<JobCreate> = { template_id: templateId, document_parameters: values, target_all: false };
  const jobId = form.jobId.trim();
  if (jobId) {
    if (JOB_ID_PATTERN.test(jobId)) body.job_id = jobId;
    else errors.jobId = "letters, digits, '_' or '-', at most 64";
  }
  if (form.targetType === "device") {
    const id = form.deviceId.trim();
    if (!id || !ID_PATTERN.test(id)) errors.target = "choose a device";
    else body.target_device_id = id;
  } else if (form.targetType === "group") {
    const id = form.groupId.trim();
    if (!id || !ID_PATTERN.test(id)) errors.target = "choose a group";
    else body.target_group_id = id;
  } else {
    body.target_all = true;
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, body: body as JobCreate }; // target_selection: the API's default (SNAPSHOT)
}
