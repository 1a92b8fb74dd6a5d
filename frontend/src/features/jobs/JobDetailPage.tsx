// One job: its document, target, counts and progress; its executions (paged, filterable), each with
// its history; and cancellation while it is IN_PROGRESS.

import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { ErrorBanner, JsonView, Loading, Pager, formatTime } from "../../components/ui";
import { useInterval, useResource } from "../../components/useResource";
import {
  EXECUTION_STATUSES,
  cancelJob,
  executionEvents,
  getJob,
  listExecutions,
  type ExecutionStatus,
  type JobCounts,
} from "../../services/api/jobs";
import { canWrite } from "../../services/api/session";
import { targetLabel } from "./JobsPage";
import { ProgressBar, StatusBadge } from "./StatusBadge";

const PAGE = 50;

const COUNT_LABELS: [keyof JobCounts, string][] = [
  ["queued", "Queued"],
  ["in_progress", "In progress"],
  ["succeeded", "Succeeded"],
  ["failed", "Failed"],
  ["timed_out", "Timed out"],
  ["rejected", "Rejected"],
];

export function JobDetailPage() {
  const { jobId = "" } = useParams();
  const session = useSession();
  const [status, setStatus] = useState<ExecutionStatus | "">("");
  const [offset, setOffset] = useState(0);
  const [history, setHistory] = useState<string | null>(null);

  const job = useResource((signal) => getJob(jobId, signal), [jobId]);
  const executions = useResource(
    (signal) => listExecutions(jobId, { status: status || undefined, limit: PAGE, offset }, signal),
    [jobId, status, offset],
  );
  const reload = () => {
    job.reload();
    executions.reload();
  };
  useInterval(reload, 3000, job.data?.status === "IN_PROGRESS");

  if (job.error && !job.data) {
    return (
      <section>
        <p>
          <Link to="/jobs">← Jobs</Link>
        </p>
        <ErrorBanner error={job.error} />
      </section>
    );
  }
  if (!job.data) return <Loading what="job" />;
  const j = job.data;

  return (
    <section>
      <p>
        <Link to="/jobs">← Jobs</Link>
      </p>
      <header className="page-header">
        <h1>
          Job <code>{j.job_id}</code> <StatusBadge status={j.status} />
        </h1>
        <div className="actions">
          <button type="button" onClick={reload}>
            Refresh
          </button>
          {canWrite(session) && j.status === "IN_PROGRESS" && <CancelJob jobId={j.job_id} onDone={reload} />}
        </div>
      </header>
      <ErrorBanner error={job.error} />
      <dl className="facts">
        <dt>Document type</dt>
        <dd>{j.document_type}</dd>
        <dt>Target</dt>
        <dd>
          {j.target.type === "device" && j.target.id ? (
            <Link to={`/devices/${encodeURIComponent(j.target.id)}`}>device {j.target.id}</Link>
          ) : j.target.type === "group" && j.target.id ? (
            <Link to={`/groups/${encodeURIComponent(j.target.id)}`}>group {j.target.id}</Link>
          ) : (
            targetLabel(j)
          )}
        </dd>
        <dt>Executions</dt>
        <dd data-testid="execution-count">{j.execution_count}</dd>
        <dt>Progress</dt>
        <dd>
          <ProgressBar value={j.progress} label="job progress" />
        </dd>
        <dt>Created</dt>
        <dd>
          {formatTime(j.created_at)}
          {j.created_by ? ` by ${j.created_by}` : ""}
        </dd>
        <dt>Expires</dt>
        <dd>{j.expires_at ? formatTime(j.expires_at) : "never"}</dd>
        {j.completed_at && (
          <>
            <dt>Completed</dt>
            <dd>{formatTime(j.completed_at)}</dd>
          </>
        )}
        {j.canceled_at && (
          <>
            <dt>Canceled</dt>
            <dd>
              {formatTime(j.canceled_at)}
              {j.cancel_reason ? ` — ${j.cancel_reason}` : ""}
            </dd>
          </>
        )}
      </dl>
      <h2>Parameters</h2>
      <JsonView value={j.document_params} />

      <h2>Executions</h2>
      <ul className="counts" aria-label="execution counts">
        {COUNT_LABELS.map(([key, label]) => (
          <li key={key} data-count={key}>
            <strong>{j.counts[key]}</strong> {label}
          </li>
        ))}
      </ul>
      <div className="filters">
        <label>
          Status
          <select
            name="execution_status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as ExecutionStatus | "");
              setOffset(0);
            }}
          >
            <option value="">any</option>
            {EXECUTION_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBanner error={executions.error} />
      {executions.data && executions.data.executions.length === 0 && <p className="muted">No executions.</p>}
      {executions.data && executions.data.executions.length > 0 && (
        <table className="table" aria-label="executions">
          <thead>
            <tr>
              <th>Device</th>
              <th>Status</th>
              <th>#</th>
              <th>Queued</th>
              <th>Started</th>
              <th>Updated</th>
              <th>Details</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {executions.data.executions.map((x) => (
              <tr key={x.device_id} data-device-id={x.device_id}>
                <td>
                  <Link to={`/devices/${encodeURIComponent(x.device_id)}`}>{x.device_id}</Link>
                </td>
                <td>
                  <StatusBadge status={x.status} />
                </td>
                <td>{x.execution_number}</td>
                <td>{formatTime(x.queued_at)}</td>
                <td>{formatTime(x.started_at)}</td>
                <td>{formatTime(x.last_updated_at)}</td>
                <td className="wrap">{x.status_details ? <code>{JSON.stringify(x.status_details)}</code> : "—"}</td>
                <td>
                  <button type="button" className="link" onClick={() => setHistory(history === x.device_id ? null : x.device_id)}>
                    {history === x.device_id ? "Hide history" : "History"}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {executions.data && (
        <Pager total={executions.data.total} limit={PAGE} offset={offset} onChange={setOffset} />
      )}
      {history && <ExecutionHistory jobId={j.job_id} deviceId={history} />}
    </section>
  );
}

function ExecutionHistory({ jobId, deviceId }: { jobId: string; deviceId: string }) {
  const events = useResource((signal) => executionEvents(jobId, deviceId, signal), [jobId, deviceId]);
  return (
    <section className="panel" aria-label={`history of ${deviceId}`}>
      <h3>History of {deviceId}</h3>
      <ErrorBanner error={events.error} />
      {events.loading && <Loading what="history" />}
      {events.data && events.data.events.length === 0 && <p className="muted">Still queued; no transitions yet.</p>}
      {events.data && events.data.events.length > 0 && (
        <ol className="events">
          {events.data.events.map((e) => (
            <li key={e.event_id}>
              {formatTime(e.at)}: {e.from_status} → {e.to_status} by {e.actor}
              {e.status_details ? <code> {JSON.stringify(e.status_details)}</code> : null}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function CancelJob({ jobId, onDone }: { jobId: string; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (!open) {
    return (
      <button type="button" className="danger" onClick={() => setOpen(true)}>
        Cancel job
      </button>
    );
  }
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await cancelJob(jobId, reason.trim() || undefined);
      setOpen(false);
      onDone();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      onDone();
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="inline-form" onSubmit={submit} aria-label="cancel job">
      <input
        name="reason"
        value={reason}
        maxLength={2000}
        onChange={(e) => setReason(e.target.value)}
        placeholder="reason (optional)"
      />
      <button type="submit" className="danger" disabled={busy}>
        Confirm cancel
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Keep running
      </button>
      <ErrorBanner error={error} />
    </form>
  );
}
