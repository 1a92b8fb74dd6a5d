// What the job detail shows of a rollout: the job's stored configs read back as typed configs, and the
// step chart of devices reached over time (rollout.history).

import type { Job } from "../../services/api/jobs";
import type { Schemas } from "../../services/api/types";
import type { AbortConfig, RetryConfig, RolloutConfig, RolloutConfigs, SchedulingConfig } from "./rolloutForm";

export type RolloutPoint = Schemas["RolloutPoint"];

const hasList = (c: object | null, key: string): boolean => !!c && Array.isArray((c as Record<string, unknown>)[key]);

/** The job's configs as the API stored them (it validated them on create); a malformed one is left out. */
export function jobConfigs(job: Pick<Job, "rollout_config" | "abort_config" | "retry_config" | "scheduling_config">): RolloutConfigs {
  const configs: RolloutConfigs = {};
  const rollout = job.rollout_config;
  if (rollout && (typeof rollout.maximum_per_minute === "number" || (rollout.exponential_rate && typeof rollout.exponential_rate === "object"))) {
    configs.rollout_config = rollout as RolloutConfig;
  }
  if (hasList(job.abort_config, "criteria_list")) configs.abort_config = job.abort_config as unknown as AbortConfig;
  if (hasList(job.retry_config, "criteria_list")) configs.retry_config = job.retry_config as unknown as RetryConfig;
  const schedule = job.scheduling_config;
  if (schedule) {
    const windows = Array.isArray(schedule.maintenance_windows) ? schedule.maintenance_windows : [];
    configs.scheduling_config = { ...(schedule as SchedulingConfig), maintenance_windows: windows as SchedulingConfig["maintenance_windows"] };
  }
  return configs;
}

export interface StepChart {
  /** SVG path of devices reached over time, as steps (each release lifts the line). */
  path: string;
  from: string; // ISO time of the first point
  to: string; // ISO time of the last point
  max: number;
}

/** The step line of `history` in a width × height box: time left to right, 0 to `total` bottom to top. */
export function stepChart(history: readonly RolloutPoint[], total: number, width: number, height: number): StepChart | null {
  const points = history
    .map((p) => ({ t: Date.parse(p.at), reached: p.reached, at: p.at }))
    .filter((p) => Number.isFinite(p.t))
    .sort((a, b) => a.t - b.t);
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last) return null;
  const max = Math.max(total, ...points.map((p) => p.reached), 1);
  const span = last.t - first.t;
  const x = (t: number) => (span > 0 ? ((t - first.t) / span) * width : width);
  const y = (r: number) => height - (r / max) * height;
  const r2 = (v: number) => Math.round(v * 100) / 100;
  // Before the first release nothing was reached: start from 0 at the first point's time.
  let path = `M0 ${r2(height)} V${r2(y(first.reached))}`;
  for (const p of points.slice(1)) path += ` H${r2(x(p.t))} V${r2(y(p.reached))}`;
  if (span === 0) path += ` H${r2(width)}`;
  return { path, from: first.at, to: last.at, max };
}
