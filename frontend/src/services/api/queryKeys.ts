// Every TanStack Query key of the console, so that a query and the invalidations meant for it cannot disagree.
// Keys nest: invalidating a key also invalidates each key that starts with it, so `jobs.lists()` covers every
// filter and page of the jobs list.

import type { ArtifactListParams } from "./artifacts";
import type { DeviceListParams } from "./devices";
import type { GroupListParams } from "./groups";
import type { ExecutionListParams } from "./jobs";

const artifactLists = () => ["artifacts", "list"] as const;
const deviceLists = () => ["devices", "list"] as const;
const groupLists = () => ["groups", "list"] as const;
const devicesJobs = () => ["jobs", "of-device"] as const;

export const queryKeys = {
  /** Only the job form's artifact picker (features/jobs) still reads the list under these keys. */
  artifacts: {
    lists: artifactLists,
    list: (params: ArtifactListParams) => [...artifactLists(), params] as const,
  },
  // The devices and groups pages use $api's derived keys; these remain for the jobs feature's pickers.
  devices: {
    lists: deviceLists,
    list: (params: DeviceListParams) => [...deviceLists(), params] as const,
  },
  groups: {
    lists: groupLists,
    list: (params: GroupListParams) => [...groupLists(), params] as const,
    detail: (groupId: string) => ["groups", "detail", groupId] as const,
  },
  jobs: {
    /** Every device's executions across jobs (the device pages' job panels; the jobs screens use $api). */
    ofDevices: devicesJobs,
    ofDevice: (deviceId: string, params: ExecutionListParams) => [...devicesJobs(), deviceId, params] as const,
  },
};
