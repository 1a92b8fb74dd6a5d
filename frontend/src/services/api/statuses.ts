// The status names of jobs, executions and devices, as generated from openapi.json (schema.ts), and the
// one place that says which of them are still open.

import type { Device } from "./devices";
import type { ExecutionStatus, JobCounts, JobStatus } from "./jobs";
import { deviceOutStatusValues, executionOutStatusValues, jobOutStatusValues } from "./schema";

export const JOB_STATUSES: readonly JobStatus[] = jobOutStatusValues;
export const EXECUTION_STATUSES: readonly ExecutionStatus[] = executionOutStatusValues;
export const DEVICE_STATUSES: readonly Device["status"][] = deviceOutStatusValues;

/** The one color (a Mantine palette name) of each job and execution status: badges, the progress bar, charts. */
export const STATUS_COLORS: Readonly<Record<JobStatus | ExecutionStatus, string>> = {
  SCHEDULED: "indigo",
  QUEUED: "gray",
  IN_PROGRESS: "blue",
  SUCCEEDED: "teal",
  COMPLETED: "teal",
  FAILED: "red",
  TIMED_OUT: "orange",
  REJECTED: "grape",
  CANCELED: "yellow",
  REMOVED: "dark",
};

/** A status's color as a CSS value (for SVG charts, which take no palette names). */
export const statusCssColor = (status: JobStatus | ExecutionStatus): string =>
  `var(--mantine-color-${STATUS_COLORS[status]}-6)`;

/** Executions a device can still move; every other execution status is final. */
const OPEN_EXECUTION_STATUSES: ReadonlySet<ExecutionStatus> = new Set<ExecutionStatus>(["QUEUED", "IN_PROGRESS"]);

export const isOpenExecution = (status: ExecutionStatus): boolean => OPEN_EXECUTION_STATUSES.has(status);

/** A job whose executions can still change (neither COMPLETED nor CANCELED); a SCHEDULED job waits for its
 * start and can be canceled before it. */
export const isJobLive = (status: JobStatus): boolean => status === "IN_PROGRESS" || status === "SCHEDULED";

/** The job counters' key for an execution status (QUEUED → queued, ...). */
export const countKey = (status: ExecutionStatus): keyof JobCounts => status.toLowerCase() as Lowercase<ExecutionStatus>;

/** `value` when it is one of `statuses` (e.g. a status filter read from the URL), else undefined. */
export function statusFrom<S extends string>(statuses: readonly S[], value: string | null): S | undefined {
  return statuses.find((s) => s === value);
}
