// The job page's "executions by status over time": the API's series as chart rows, and which statuses to draw.

import type { ExecutionStatus } from "../../services/api/jobs";
import { EXECUTION_STATUSES, countKey } from "../../services/api/statuses";
import type { Schemas } from "../../services/api/types";
import { SEGMENTS, type CountKey } from "./progress";

export type StatusSeries = Schemas["StatusSeries"];

export type SeriesRow = { at: number } & Record<CountKey, number>;

/** One row per point (time in ms), each status's count under its counter key. */
export function seriesRows(series: StatusSeries): SeriesRow[] {
  return series.points.map((p) => ({ at: Date.parse(p.at), ...p.counts }));
}

/** The statuses that ever had an execution in the series, in the progress bar's order (outcomes first). */
export function drawnSegments(rows: readonly SeriesRow[]): (typeof SEGMENTS)[number][] {
  return SEGMENTS.filter((s) => rows.some((r) => r[s.key] > 0));
}

/** The execution status counted under a counter key ("timed_out" → TIMED_OUT). */
export function statusOf(key: CountKey): ExecutionStatus {
  const status = EXECUTION_STATUSES.find((s) => countKey(s) === key);
  if (!status) throw new Error(`no execution status counts under ${key}`);
  return status;
}

/** A bucket width for people: "30 s", "5 min", "1 h", "1 d". */
export function bucketWords(seconds: number): string {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
