// What an event of the live stream (GET /customer/events, docs/live.md) makes stale: the mapping from an event
// to the cached queries to invalidate, matched by predicate on openapi-react-query's keys
// ["get", "/customer/jobs/{job_id}", { params: { path: { job_id } } }]: by path, and by id where the path names one.

import type { QueryClient, QueryKey } from "@tanstack/react-query";

export type LiveKind = "jobs" | "devices" | "groups";

/** Things of `kind` changed: those named by `ids`, or any (null). */
export interface LiveEvent {
  kind: LiveKind;
  ids: readonly string[] | null;
}

const KINDS: readonly string[] = ["jobs", "devices", "groups"];

/** An event of the stream: a change, "resync" (refetch everything), or null for anything else (ready, unknown). */
export function parseLiveEvent(name: string, data: string): LiveEvent | "resync" | null {
  if (name === "resync") return "resync";
  if (!KINDS.includes(name)) return null;
  try {
    const parsed: unknown = JSON.parse(data);
    const ids = (parsed as { ids?: unknown } | null)?.ids;
    if (ids === null || ids === undefined) return { kind: name as LiveKind, ids: null };
    if (Array.isArray(ids) && ids.every((x) => typeof x === "string")) return { kind: name as LiveKind, ids };
    return { kind: name as LiveKind, ids: null };
  } catch {
    return { kind: name as LiveKind, ids: null };
  }
}

function pathParam(init: unknown, name: string): unknown {
  const path = (init as { params?: { path?: Record<string, unknown> } } | undefined)?.params?.path;
  return path?.[name];
}

/** Whether an openapi-react-query GET of `path` (with its `init`) shows something the event changed. */
function pathAffected(path: string, init: unknown, event: LiveEvent): boolean {
  const named = (param: string) => event.ids === null || event.ids.includes(String(pathParam(init, param)));
  switch (event.kind) {
    case "jobs":
      if (path === "/customer/jobs" || path === "/customer/devices/{device_id}/jobs") return true;
      if (path.startsWith("/customer/jobs/")) return named("job_id");
      return path === "/customer/quotas" || path.startsWith("/customer/artifacts/");
    case "devices":
      if (path === "/customer/devices" || path === "/customer/quotas") return true;
      if (path.startsWith("/customer/devices/")) return path !== "/customer/devices/{device_id}/jobs" && named("device_id");
      return false;
    case "groups":
      if (path === "/customer/groups" || path === "/customer/devices/{device_id}") return true;
      if (path.startsWith("/customer/groups/")) return named("group_id");
      return false;
  }
}

export function affects(key: QueryKey, event: LiveEvent): boolean {
  const [first, path, init] = key;
  return first === "get" && typeof path === "string" && pathAffected(path, init, event);
}

/** Marks what the event changed stale; what is on screen refetches now. */
export function invalidateFor(queryClient: QueryClient, event: LiveEvent): Promise<void> {
  return queryClient.invalidateQueries({ predicate: (query) => affects(query.queryKey, event) });
}
