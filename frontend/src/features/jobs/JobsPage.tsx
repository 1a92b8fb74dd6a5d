// The fleet jobs list: status/type filters, progress, and the Create Job modal.

import { useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { ErrorBanner, Loading, Pager, formatTime } from "../../components/ui";
import { useInterval, useResource } from "../../components/useResource";
import { JOB_STATUSES, listJobs, type Job, type JobStatus } from "../../services/api/jobs";
import { canWrite } from "../../services/api/session";
import { CreateJobModal } from "./CreateJobModal";
import { ProgressBar, StatusBadge } from "./StatusBadge";

const PAGE = 25;

export function targetLabel(job: Pick<Job, "target">) {
  return job.target.type === "all" ? "all devices" : `${job.target.type} ${job.target.id}`;
}

export function JobsPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const status = (params.get("status") as JobStatus | null) || undefined;
  const documentType = params.get("type") ?? "";
  const offset = Number(params.get("offset") ?? 0) || 0;
  const [creating, setCreating] = useState(false);

  const jobs = useResource(
    (signal) => listJobs({ status, document_type: documentType || undefined, limit: PAGE, offset }, signal),
    [status, documentType, offset],
  );
  useInterval(jobs.reload, 5000, !!jobs.data?.jobs.some((j) => j.status === "IN_PROGRESS"));

  const update = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    if (key !== "offset") next.delete("offset");
    setParams(next);
  };

  return (
    <section>
      <header className="page-header">
        <h1>Jobs</h1>
        {canWrite(session) && (
          <button type="button" className="primary" onClick={() => setCreating(true)}>
            Create job
          </button>
        )}
      </header>
      <div className="filters">
        <label>
          Status
          <select name="status" value={status ?? ""} onChange={(e) => update("status", e.target.value)}>
            <option value="">any</option>
            {JOB_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Document type
          <input
            name="type"
            defaultValue={documentType}
            onKeyDown={(e) => e.key === "Enter" && update("type", e.currentTarget.value.trim())}
            onBlur={(e) => e.currentTarget.value.trim() !== documentType && update("type", e.currentTarget.value.trim())}
            placeholder="any"
          />
        </label>
      </div>
      <ErrorBanner error={jobs.error} />
      {jobs.loading && !jobs.data && <Loading what="jobs" />}
      {jobs.data && jobs.data.jobs.length === 0 && <p className="muted">No jobs yet.</p>}
      {jobs.data && jobs.data.jobs.length > 0 && (
        <table className="table" aria-label="jobs">
          <thead>
            <tr>
              <th>Job</th>
              <th>Type</th>
              <th>Target</th>
              <th>Status</th>
              <th>Executions</th>
              <th>Progress</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {jobs.data.jobs.map((job) => (
              <tr key={job.job_id} data-job-id={job.job_id}>
                <td>
                  <Link to={`/jobs/${encodeURIComponent(job.job_id)}`}>{job.job_id}</Link>
                </td>
                <td>{job.document_type}</td>
                <td>{targetLabel(job)}</td>
                <td>
                  <StatusBadge status={job.status} />
                </td>
                <td>{job.execution_count}</td>
                <td>
                  <ProgressBar value={job.progress} label={`progress of ${job.job_id}`} />
                </td>
                <td>{formatTime(job.created_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {jobs.data && (
        <Pager total={jobs.data.total} limit={PAGE} offset={offset} onChange={(o) => update("offset", String(o))} />
      )}
      {creating && (
        <CreateJobModal
          onClose={() => setCreating(false)}
          onCreated={(job) => navigate(`/jobs/${encodeURIComponent(job.job_id)}`)}
        />
      )}
    </section>
  );
}
