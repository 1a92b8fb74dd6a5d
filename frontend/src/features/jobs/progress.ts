// How far a job has got, from its execution counters: the stacked bar's segments and the done share.

import type { ExecutionStatus, JobCounts } from "../../services/api/jobs";
import { EXECUTION_STATUSES, STATUS_COLORS, countKey, isOpenExecution } from "../../services/api/statuses";

export type CountKey = keyof JobCounts;

const LABELS: Readonly<Record<CountKey, string>> = {
  succeeded: "Succeeded",
  failed: "Failed",
  timed_out: "Timed out",
  rejected: "Rejected",
  canceled: "Canceled",
  removed: "Removed",
  in_progress: "In progress",
  queued: "Queued",
};

/** Bar order: finished outcomes first, then work still open. */
const ORDER: readonly ExecutionStatus[] = ["SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "CANCELED", "REMOVED", "IN_PROGRESS", "QUEUED"];

export const SEGMENTS: readonly { key: CountKey; label: string; color: string }[] = ORDER.map((status) => ({
  key: countKey(status),
  label: LABELS[countKey(status)],
  color: STATUS_COLORS[status],
}));

const TERMINAL: readonly CountKey[] = EXECUTION_STATUSES.filter((s) => !isOpenExecution(s)).map(countKey);

export interface ProgressSegment {
  key: CountKey;
  label: string;
  color: string;
  count: number;
  percent: number;
}

export interface JobProgress {
  total: number;
  done: number;
  /** whole percent of executions in a terminal state (never 100 while any is open) */
  donePercent: number;
  /** non-empty segments; their percents add up to exactly 100 when total > 0 */
  segments: ProgressSegment[];
}

/** Largest-remainder rounding so the visible segments always fill the bar exactly. */
function roundTo100(values: number[]): number[] {
  const total = values.reduce((a, b) => a + b, 0);
  if (total === 0) return values.map(() => 0);
  const exact = values.map((v) => (v * 100) / total);
  const floors = exact.map(Math.floor);
  let left = 100 - floors.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0]);
  for (const [, i] of order) {
    if (left <= 0) break;
    floors[i] = (floors[i] ?? 0) + 1;
    left -= 1;
  }
  return floors;
}

export function jobProgress(counts: JobCounts): JobProgress {
  const raw = SEGMENTS.map((s) => Math.max(0, Math.floor(counts[s.key] ?? 0)));
  const total = raw.reduce((a, b) => a + b, 0);
  const done = TERMINAL.reduce((sum, key) => sum + Math.max(0, Math.floor(counts[key] ?? 0)), 0);
  const percents = roundTo100(raw);
  const segments = SEGMENTS.map((s, i) => ({ ...s, count: raw[i] ?? 0, percent: percents[i] ?? 0 })).filter(
    (s) => s.count > 0,
  );
  let donePercent = total === 0 ? 0 : Math.floor((done * 100) / total);
  if (done === total && total > 0) donePercent = 100;
  return { total, done, donePercent, segments };
}
