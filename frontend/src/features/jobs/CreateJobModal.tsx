// Create Job: a document (type + JSON params) sent to one device, a group, or the whole fleet.

import { useState, type FormEvent } from "react";

import { ErrorBanner, Modal } from "../../components/ui";
import { useResource } from "../../components/useResource";
import { listDevices } from "../../services/api/devices";
import { listGroups } from "../../services/api/groups";
import { createJob, type Job, type JobCreate } from "../../services/api/jobs";
import { buildJobRequest, emptyJobForm, type JobFormErrors, type JobFormState, type TargetType } from "./jobForm";

export interface CreateJobModalProps {
  initialTarget?: { type: TargetType; id?: string };
  onClose: () => void;
  onCreated: (job: Job) => void;
  submit?: (body: JobCreate) => Promise<Job>;
}

const PRESETS: Record<string, string> = {
  reboot: '{"delay_s": 5}',
  update_config: '{"log_level": "debug"}',
  firmware_update: '{"version": "1.2.3", "url": "https://example.com/fw.bin"}',
};

export function CreateJobModal({ initialTarget, onClose, onCreated, submit = createJob }: CreateJobModalProps) {
  const [form, setForm] = useState<JobFormState>(() => emptyJobForm(initialTarget));
  const [errors, setErrors] = useState<JobFormErrors>({});
  const [serverError, setServerError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const lockedTarget = initialTarget?.id !== undefined;

  const devices = useResource(
    (signal) =>
      form.targetType === "device" && !lockedTarget
        ? listDevices({ q: form.deviceId || undefined, status: "ACTIVE", limit: 20 }, signal)
        : Promise.resolve(null),
    [form.targetType, form.deviceId, lockedTarget],
  );
  const groups = useResource(
    (signal) => (form.targetType === "group" && !lockedTarget ? listGroups({ limit: 500 }, signal) : Promise.resolve(null)),
    [form.targetType, lockedTarget],
  );

  const set = <K extends keyof JobFormState>(key: K, value: JobFormState[K]) =>
    setForm((f) => ({ ...f, [key]: value }));

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setServerError(null);
    const result = buildJobRequest(form);
    if (!result.ok) {
      setErrors(result.errors);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      onCreated(await submit(result.body));
    } catch (err) {
      setServerError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  const fieldError = (key: keyof JobFormErrors) =>
    errors[key] ? (
      <span className="field-error" id={`err-${key}`}>
        {errors[key]}
      </span>
    ) : null;

  return (
    <Modal title="Create job" onClose={onClose}>
      <form onSubmit={onSubmit} noValidate className="form">
        <label>
          Document type
          <input
            name="document_type"
            list="document-types"
            value={form.documentType}
            aria-invalid={!!errors.documentType}
            aria-describedby={errors.documentType ? "err-documentType" : undefined}
            onChange={(e) => {
              const value = e.target.value;
              setForm((f) => ({
                ...f,
                documentType: value,
                params: f.params.trim() === "{}" && PRESETS[value] ? PRESETS[value] : f.params,
              }));
            }}
            placeholder="reboot"
          />
          <datalist id="document-types">
            {Object.keys(PRESETS).map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
          {fieldError("documentType")}
        </label>

        <label>
          Parameters (JSON object)
          <textarea
            name="document_params"
            rows={4}
            spellCheck={false}
            value={form.params}
            aria-invalid={!!errors.params}
            aria-describedby={errors.params ? "err-params" : undefined}
            onChange={(e) => set("params", e.target.value)}
          />
          {fieldError("params")}
        </label>

        <fieldset disabled={lockedTarget}>
          <legend>Target</legend>
          <div className="radios">
            {(["device", "group", "all"] as const).map((t) => (
              <label key={t} className="inline">
                <input
                  type="radio"
                  name="target_type"
                  value={t}
                  checked={form.targetType === t}
                  onChange={() => set("targetType", t)}
                />
                {t === "device" ? "One device" : t === "group" ? "A group" : "All devices"}
              </label>
            ))}
          </div>
          {form.targetType === "device" && (
            <label>
              Device ID
              <input
                name="target_device_id"
                list="device-options"
                value={form.deviceId}
                aria-invalid={!!errors.target}
                onChange={(e) => set("deviceId", e.target.value)}
                placeholder="device id"
                autoComplete="off"
              />
              <datalist id="device-options">
                {devices.data?.devices.map((d) => (
                  <option key={d.device_id} value={d.device_id}>
                    {d.name}
                  </option>
                ))}
              </datalist>
            </label>
          )}
          {form.targetType === "group" && (
            <label>
              Group
              {lockedTarget ? (
                <input name="target_group_id" value={form.groupId} readOnly />
              ) : (
                <select
                  name="target_group_id"
                  aria-label="Group"
                  value={form.groupId}
                  aria-invalid={!!errors.target}
                  onChange={(e) => set("groupId", e.target.value)}
                >
                  <option value="">— choose a group —</option>
                  {groups.data?.groups.map((g) => (
                    <option key={g.group_id} value={g.group_id}>
                      {g.name} ({g.member_count} devices)
                    </option>
                  ))}
                </select>
              )}
            </label>
          )}
          {form.targetType === "all" && <p className="muted">Every active device of the tenant, as of now.</p>}
          {fieldError("target")}
          <ErrorBanner error={devices.error ?? groups.error} />
        </fieldset>

        <div className="row">
          <label>
            Expires in (hours)
            <input
              name="expires_in_hours"
              inputMode="decimal"
              value={form.expiresInHours}
              aria-invalid={!!errors.expiresInHours}
              onChange={(e) => set("expiresInHours", e.target.value)}
              placeholder="never"
            />
            {fieldError("expiresInHours")}
          </label>
          <label>
            Job ID (optional)
            <input
              name="job_id"
              value={form.jobId}
              aria-invalid={!!errors.jobId}
              onChange={(e) => set("jobId", e.target.value)}
              placeholder="generated"
            />
            {fieldError("jobId")}
          </label>
        </div>

        <ErrorBanner error={serverError} />
        <footer className="actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Creating…" : "Create job"}
          </button>
        </footer>
      </form>
    </Modal>
  );
}
