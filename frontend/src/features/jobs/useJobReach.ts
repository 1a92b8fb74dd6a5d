// How many devices a job would reach right now: 1 device, a group's members, or every active device.

import { useQuery } from "@tanstack/react-query";

import { listDevices } from "../../services/api/devices";
import { getGroup } from "../../services/api/groups";
import type { TargetType } from "./jobForm";

export interface Reach {
  count: number | null; // null: not known (yet)
  loading: boolean;
  error: string | null;
}

export function useJobReach(targetType: TargetType, deviceId: string, groupId: string): Reach {
  const group = useQuery({
    queryKey: ["group", groupId],
    queryFn: ({ signal }) => getGroup(groupId, signal),
    enabled: targetType === "group" && groupId !== "",
  });
  const fleet = useQuery({
    queryKey: ["devices", { status: "ACTIVE", limit: 1 }],
    queryFn: ({ signal }) => listDevices({ status: "ACTIVE", limit: 1 }, signal),
    enabled: targetType === "all",
  });
  if (targetType === "device") return { count: deviceId ? 1 : null, loading: false, error: null };
  const q = targetType === "group" ? group : fleet;
  if (targetType === "group" && !groupId) return { count: null, loading: false, error: null };
  const count = q.data ? ("member_count" in q.data ? q.data.member_count : q.data.total) : null;
  return { count, loading: q.isPending, error: q.error ? q.error.message : null };
}
