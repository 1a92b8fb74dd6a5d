// What the jobs and templates screens share about the typed client: the answer of an imperative call, the
// polling interval of live views, and what a change to a job (or a new job) must refresh.

import type { Query, QueryClient } from "@tanstack/react-query";
import { useSyncExternalStore } from "react";

import { ApiError } from "../../services/api/client";
import { pathKey, type ApiPath } from "../../services/api/openapi";
import { isLive, onLiveChange, whenNotLive } from "../../app/live/liveState";

/** How often a view of a running job polls while the live stream is down. */
export const LIVE_REFRESH_MS = 2000;
export const livePolling = whenNotLive(LIVE_REFRESH_MS);

/**
 * Whether the live stream is up, re-rendering the page when that changes: its queries then recompute their
 * `whenNotLive` intervals (a query that stopped polling while the stream was up starts again when it drops).
 */
export function useLiveStream(): boolean {
  return useSyncExternalStore(onLiveChange, isLive);
}

/** The body of a fetchClient call's answer (errors have already been thrown as ApiError by the client). */
export async function answer<T>(call: Promise<{ data?: T }>): Promise<T> {
  const { data } = await call;
  if (data === undefined) throw new ApiError(0, "empty", "the server sent an empty answer; retry");
  return data;
}

/** The operator API's paths that show one job, each keyed by its {job_id}. */
const ONE_JOB_PATHS = [
  "/customer/jobs/{job_id}",
  "/customer/jobs/{job_id}/executions",
  "/customer/jobs/{job_id}/executions/{device_id}/events",
  "/customer/jobs/{job_id}/status-series",
  "/customer/jobs/{job_id}/failure-reasons",
] as const satisfies readonly ApiPath[];

function jobIdOf(query: Query): unknown {
  const init = query.queryKey[2] as { params?: { path?: { job_id?: unknown } } } | undefined;
  return init?.params?.path?.job_id;
}

/** A new job (or a job gone): every jobs list, and every device's jobs panel. */
export function invalidateJobLists(client: QueryClient): void {
  void client.invalidateQueries({ queryKey: pathKey("/customer/jobs") });
  void client.invalidateQueries({ queryKey: pathKey("/customer/devices/{device_id}/jobs") });
}

/** A change to job `jobId`: every cached view of it (and of no other job), the lists and the device panels. */
export function invalidateJob(client: QueryClient, jobId: string): void {
  const ofThisJob = (query: Query) => jobIdOf(query) === jobId;
  for (const path of ONE_JOB_PATHS) void client.invalidateQueries({ queryKey: pathKey(path), predicate: ofThisJob });
  invalidateJobLists(client);
}

/** A deleted job: its views are dropped rather than refetched into 404s. */
export function removeJob(client: QueryClient, jobId: string): void {
  client.removeQueries({ queryKey: pathKey("/customer/jobs/{job_id}"), predicate: (q) => jobIdOf(q) === jobId });
}
