import type { ExecutionStatus, JobStatus } from "../../services/api/jobs";

const TONE: Record<JobStatus | ExecutionStatus, string> = {
  QUEUED: "neutral",
  IN_PROGRESS: "info",
  SUCCEEDED: "good",
  COMPLETED: "good",
  FAILED: "bad",
  TIMED_OUT: "warn",
  REJECTED: "warn",
  CANCELED: "warn",
};

export function StatusBadge({ status }: { status: JobStatus | ExecutionStatus }) {
  return <span className={`badge ${TONE[status] ?? "neutral"}`}>{status}</span>;
}

export function ProgressBar({ value, label }: { value: number; label?: string }) {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return (
    <span className="progress" role="progressbar" aria-valuenow={pct} aria-valuemin={0} aria-valuemax={100} aria-label={label}>
      <span className="track">
        <span className="fill" style={{ width: `${pct}%` }} />
      </span>
      <em>{pct}%</em>
    </span>
  );
}
