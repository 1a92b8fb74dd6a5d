import { request } from "./client";

export interface Group {
  group_id: string;
  name: string;
  description: string;
  member_count: number;
  created_at: string;
}

export interface GroupMember {
  device_id: string;
  name: string;
  status: string;
  last_seen_at: string | null;
  added_at: string;
}

export interface GroupList {
  groups: Group[];
  total: number;
  limit: number;
  offset: number;
}

export function listGroups(
  params: { q?: string; limit?: number; offset?: number } = {},
  signal?: AbortSignal,
): Promise<GroupList> {
  return request<GroupList>("/customer/groups", { query: params, signal });
}

export function getGroup(groupId: string, signal?: AbortSignal): Promise<Group & { members: GroupMember[] }> {
  return request(`/customer/groups/${encodeURIComponent(groupId)}`, { signal });
}
