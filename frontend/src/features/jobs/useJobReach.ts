// How many devices a job would reach right now: 1 device, a group's members, or every active device.

import { useQuery } from "@tanstack/react-query";

import { listDevices, type DeviceListParams } from "../../services/api/devices";
import { getGroup } from "../../services/api/groups";
import { queryKeys } from "../../services/api/queryKeys";
import type { TargetType } from "./jobForm";

/** One row is enough: the list's total is the number of active devices. */
const ACTIVE_COUNT: DeviceListParams = { status: "ACTIVE", limit: 1 };

export interface Reach {
  count: number | null; // null: not known (yet)
  loading: boolean;
  error: string | null;
}

export function useJobReach(targetType: TargetType, deviceId: string, groupId: string): Reach {
  const group = useQuery({
    queryKey: queryKeys.groups.detail(groupId),
    queryFn: ({ signal }) => getGroup(groupId, signal),
    enabled: targetType === "group" && groupId !== "",
  });
  const fleet = useQuery({
    queryKey: queryKeys.devices.list(ACTIVE_COUNT),
    queryFn: ({ signal }) => listDevices(ACTIVE_COUNT, signal),
    enabled: targetType === "all",
  });
  if (targetType === "device") return { count: deviceId ? 1 : null, loading: false, error: null };
  const q = targetType === "group" ? group : fleet;
  if (targetType === "group" && !groupId) return { count: null, loading: false, error: null };
  const count = q.data ? ("member_count" in q.data ? q.data.member_count : q.data.total) : null;
  return { count, loading: q.isPending, error: q.error ? q.error.message : null };
}
