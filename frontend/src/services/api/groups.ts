// Device groups (static membership) on the operator API: the schema's types. Pages call the API through
// `$api` / `fetchClient` (openapi.ts); `listGroups` and `getGroup` remain for the jobs feature's group picker
// and reach.

import { request } from "./client";
import type { Schemas } from "./types";

export type Group = Schemas["GroupOut"];
export type GroupDetail = Schemas["GroupDetail"];
export type GroupList = Schemas["GroupList"];
export type GroupMember = Schemas["MemberOut"];

export type GroupListParams = { q?: string; limit?: number; offset?: number };

const groupPath = (groupId: string) => `/customer/groups/${encodeURIComponent(groupId)}`;

export function listGroups(params: GroupListParams = {}, signal?: AbortSignal): Promise<GroupList> {
  return request<GroupList>("/customer/groups", { query: params, signal });
}

export function getGroup(groupId: string, signal?: AbortSignal): Promise<GroupDetail> {
  return request<GroupDetail>(groupPath(groupId), { signal });
}
