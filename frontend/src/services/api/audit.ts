// The operator audit log: who did what to which target, newest first, keyset-paged.

import { request } from "./client";
import type { Schemas } from "./types";

export type AuditEntry = Schemas["AuditEntry"];
export type AuditPage = Schemas["AuditPage"];
/** The log's filters (all optional, combined with AND); `since` is inclusive, `until` exclusive (ISO times). */
export type AuditFilters = {
  action?: string;
  target_type?: string;
  target_id?: string;
  actor?: string;
  since?: string;
  until?: string;
};
export type AuditListParams = AuditFilters & { limit?: number; after?: number };

export function listAudit(params: AuditListParams = {}, signal?: AbortSignal): Promise<AuditPage> {
  return request("/customer/audit", { query: params, signal });
}
