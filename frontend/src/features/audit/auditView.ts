// The Audit page's pure parts: its filters as URL query parameters, and where each row's target links to.

import type { Schemas } from "../../services/api/types";

export type AuditEntry = Schemas["AuditEntry"];
/** The log's filters (all optional, combined with AND); `since` is inclusive, `until` exclusive (ISO times). */
export type AuditFilters = Partial<Record<FilterKey, string>>;

/** The actions the API records today (docs/audit.md); the filter takes any other name too. */
export const AUDIT_ACTIONS = [
  "job.created",
  "job.canceled",
  "job.deleted",
  "execution.canceled",
  "execution.deleted",
  "template.created",
  "template.deleted",
  "device.revoked",
  "device.token_rotated",
  "twin.edited",
] as const;
export const TARGET_TYPES = ["job", "execution", "template", "device", "artifact"] as const;
export const FILTER_KEYS = ["action", "target_type", "target_id", "actor", "since", "until"] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

/** The filters the URL holds (empty values left out). */
export function filtersFrom(params: URLSearchParams): AuditFilters {
  const out: AuditFilters = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key)?.trim();
    if (value) out[key] = value;
  }
  return out;
}

/** The page a target has in the console, as [type, id] of the pages: jobs, devices, templates, artifacts. */
function pageOf(targetType: string, targetId: string): { path: string; key: string } | null {
  const enc = encodeURIComponent;
  switch (targetType) {
    case "job":
      return { path: `/jobs/${enc(targetId)}`, key: `job:${targetId}` };
    case "execution": {
      // target_id is job_id/device_id: the execution is shown on its job's page
      const slash = targetId.indexOf("/");
      if (slash <= 0) return null;
      const jobId = targetId.slice(0, slash);
      return { path: `/jobs/${enc(jobId)}`, key: `job:${jobId}` };
    }
    case "device":
      return { path: `/devices/${enc(targetId)}`, key: `device:${targetId}` };
    case "template":
      return { path: `/templates/${enc(targetId)}`, key: `template:${targetId}` };
    case "artifact":
      return { path: `/artifacts/${enc(targetId)}`, key: `artifact:${targetId}` };
    default:
      return null;
  }
}

/** Which targets the loaded log shows as deleted: for each one, its newest entry decides (a job deleted, then
 * made again with the same id, exists). `entries` newest first, as the API answers. */
export function deletedTargets(entries: readonly AuditEntry[]): Set<string> {
  const decided = new Map<string, boolean>();
  for (const e of entries) {
    if (e.target_type === "execution") continue; // deleting an execution leaves its job
    const page = pageOf(e.target_type, e.target_id);
    if (!page || decided.has(page.key)) continue;
    decided.set(page.key, e.action === `${e.target_type}.deleted`);
  }
  return new Set([...decided].filter(([, deleted]) => deleted).map(([key]) => key));
}

/** The link of an entry's target, or null when it has no page or the log shows it deleted. */
export function targetLink(entry: AuditEntry, deleted: ReadonlySet<string>): string | null {
  const page = pageOf(entry.target_type, entry.target_id);
  return page && !deleted.has(page.key) ? page.path : null;
}
