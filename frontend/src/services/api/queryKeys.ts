// Every TanStack Query key of the console, so that a query and the invalidations meant for it cannot disagree.
// Keys nest: invalidating a key also invalidates each key that starts with it, so `jobs.lists()` covers every
// filter and page of the jobs list, and `jobs.executions(id)` every page of one job's executions.

import type { ArtifactListParams } from "./artifacts";
import type { AuditListParams } from "./audit";
import type { DeviceListParams } from "./devices";
import type { GroupListParams } from "./groups";
import type { ExecutionListParams, JobListParams } from "./jobs";
import { pathKey } from "./openapi";
import type { TemplateListParams } from "./templates";

const artifactLists = () => ["artifacts", "list"] as const;
const deviceLists = () => ["devices", "list"] as const;
const groupLists = () => ["groups", "list"] as const;
const jobLists = () => ["jobs", "list"] as const;
const jobDetail = (jobId: string) => ["jobs", "detail", jobId] as const;
const jobExecutions = (jobId: string) => ["jobs", "executions", jobId] as const;
const jobEvents = (jobId: string) => ["jobs", "events", jobId] as const;
const devicesJobs = () => ["jobs", "of-device"] as const;
const templateLists = () => ["templates", "list"] as const;
const auditLists = () => ["audit", "list"] as const;

export const queryKeys = {
  accessKeys: {
    list: () => ["access-keys", "list"] as const,
  },
  audit: {
    lists: auditLists,
    /** `after` is not part of the key: one infinite query holds every page of a filter. */
    list: (filters: Omit<AuditListParams, "after">) => [...auditLists(), filters] as const,
  },
  artifacts: {
    lists: artifactLists,
    list: (params: ArtifactListParams) => [...artifactLists(), params] as const,
    detail: (name: string) => ["artifacts", "detail", name] as const,
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
    lists: jobLists,
    list: (params: JobListParams) => [...jobLists(), params] as const,
    detail: jobDetail,
    executions: jobExecutions,
    executionPage: (jobId: string, params: ExecutionListParams) => [...jobExecutions(jobId), params] as const,
    executionEvents: (jobId: string, deviceId: string) => [...jobEvents(jobId), deviceId] as const,
    /** Every device's executions across jobs (the device pages' job panels). */
    ofDevices: devicesJobs,
    ofDevice: (deviceId: string, params: ExecutionListParams) => [...devicesJobs(), deviceId, params] as const,
    /** Every key under which a view of job `jobId` may be cached: what a change to that job must invalidate. */
    // (the device page's jobs panel is on $api: its keys start with pathKey("/customer/devices/{device_id}/jobs"))
    views: (jobId: string) =>
      [jobDetail(jobId), jobLists(), jobExecutions(jobId), jobEvents(jobId), devicesJobs(), pathKey("/customer/devices/{device_id}/jobs")] as const,
  },
  templates: {
    lists: templateLists,
    list: (params: Omit<TemplateListParams, "after">) => [...templateLists(), params] as const,
    detail: (templateId: string) => ["templates", "detail", templateId] as const,
  },
};
