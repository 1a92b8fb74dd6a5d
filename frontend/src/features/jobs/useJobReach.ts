// How many devices a job would reach right now: 1 device, a group's members, or every active device.

import { $api } from "../../services/api/openapi";
import { errorText } from "../common/format";
import type { TargetType } from "./jobForm";

/** One row is enough: the list's total is the number of active devices. */
const ACTIVE_COUNT = { status: "ACTIVE", limit: 1 } as const;

export interface Reach {
  count: number | null; // null: not known (yet)
  loading: boolean;
  error: string | null;
}

export function useJobReach(targetType: TargetType, deviceId: string, groupId: string): Reach {
  const group = $api.useQuery(
    "get",
    "/customer/groups/{group_id}",
    { params: { path: { group_id: groupId } } },
    { enabled: targetType === "group" && groupId !== "" },
  );
  const fleet = $api.useQuery("get", "/customer/devices", { params: { query: ACTIVE_COUNT } }, { enabled: targetType === "all" });
  if (targetType === "device") return { count: deviceId ? 1 : null, loading: false, error: null };
  const q = targetType === "group" ? group : fleet;
  if (targetType === "group" && !groupId) return { count: null, loading: false, error: null };
  const count = q.data ? ("member_count" in q.data ? q.data.member_count : q.data.total) : null;
  return { count, loading: q.isPending, error: q.error ? errorText(q.error) : null };
}
