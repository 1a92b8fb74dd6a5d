// Fleet jobs of the operator API (AWS IoT Jobs semantics): create, list, inspect, cancel.

import { request } from "./client";

export const JOB_STATUSES = ["IN_PROGRESS", "COMPLETED", "CANCELED"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const EXECUTION_STATUSES = ["QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED"] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export interface JobCounts {
  queued: number;
  in_progress: number;
  succeeded: number;
  failed: number;
  timed_out: number;
  rejected: number;
}

export interface Job {
  job_id: string;
  document_type: string;
  document_params: Record<string, unknown>;
  target_device_id: string | null;
  target_group_id: string | null;
  target_all: boolean;
  target: { type: "device" | "group" | "all"; id: string | null };
  status: JobStatus;
  execution_count: number;
  counts: JobCounts;
  progress: number;
  expires_at: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
  canceled_at: string | null;
  cancel_reason: string | null;
}

export interface Execution {
  device_id: string;
  status: ExecutionStatus;
  status_details: Record<string, unknown> | null;
  execution_number: number;
  queued_at: string;
  started_at: string | null;
  last_updated_at: string;
}

export interface JobDetail extends Job {
  executions: Execution[];
  executions_truncated: boolean;
  executions_limit: number;
}

export interface JobList {
  jobs: Job[];
  total: number;
  limit: number;
  offset: number;
}

export interface ExecutionEvent {
  event_id: number;
  from_status: ExecutionStatus;
  to_status: ExecutionStatus;
  actor: "device" | "operator" | "worker";
  execution_number: number;
  status_details: Record<string, unknown> | null;
  at: string;
}

export interface DeviceExecution extends Execution {
  job_id: string;
  document_type: string;
  job_status: JobStatus;
}

/** The body of POST /customer/jobs: exactly one target. */
export interface JobCreate {
  job_id?: string;
  document_type: string;
  document_params: Record<string, unknown>;
  target_device_id?: string;
  target_group_id?: string;
  target_all?: boolean;
  expires_in_hours?: number;
}

const jobPath = (jobId: string) => `/customer/jobs/${encodeURIComponent(jobId)}`;

export function listJobs(
  params: { status?: JobStatus; document_type?: string; limit?: number; offset?: number } = {},
  signal?: AbortSignal,
): Promise<JobList> {
  return request<JobList>("/customer/jobs", { query: params, signal });
}

export function getJob(jobId: string, signal?: AbortSignal): Promise<JobDetail> {
  return request<JobDetail>(jobPath(jobId), { signal });
}

export function createJob(body: JobCreate): Promise<Job> {
  return request<Job>("/customer/jobs", { method: "POST", json: body });
}

export function cancelJob(
  jobId: string,
  reason?: string,
): Promise<{ job_id: string; status: "CANCELED"; rejected_executions: number }> {
  return request(jobPath(jobId), { method: "DELETE", json: reason ? { reason } : undefined });
}

export function executionEvents(
  jobId: string,
  deviceId: string,
  signal?: AbortSignal,
): Promise<{ job_id: string; device_id: string; events: ExecutionEvent[] }> {
  return request(`${jobPath(jobId)}/executions/${encodeURIComponent(deviceId)}/events`, { signal });
}

export function deviceJobs(
  deviceId: string,
  params: { status?: ExecutionStatus; limit?: number; offset?: number } = {},
  signal?: AbortSignal,
): Promise<{ device_id: string; executions: DeviceExecution[]; total: number; limit: number; offset: number }> {
  return request(`/customer/devices/${encodeURIComponent(deviceId)}/jobs`, { query: params, signal });
}

export function listExecutions(
  jobId: string,
  params: { status?: ExecutionStatus; limit?: number; offset?: number } = {},
  signal?: AbortSignal,
): Promise<{ job_id: string; executions: Execution[]; total: number; limit: number; offset: number }> {
  return request(`${jobPath(jobId)}/executions`, { query: params, signal });
}
