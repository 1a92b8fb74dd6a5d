// Device groups (static membership) on the operator API.

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

export function createGroup(body: Schemas["GroupCreate"]): Promise<Group> {
  return request<Group>("/customer/groups", { method: "POST", json: body });
}

export function deleteGroup(groupId: string): Promise<void> {
  return request<void>(groupPath(groupId), { method: "DELETE" });
}

export function addMembers(groupId: string, deviceIds: string[]): Promise<Schemas["MembersAdded"]> {
  const body: Schemas["MembersAdd"] = { device_ids: deviceIds };
  return request(`${groupPath(groupId)}/members`, { method: "POST", json: body });
}

export function removeMember(groupId: string, deviceId: string): Promise<void> {
  return request<void>(`${groupPath(groupId)}/members/${encodeURIComponent(deviceId)}`, { method: "DELETE" });
}
