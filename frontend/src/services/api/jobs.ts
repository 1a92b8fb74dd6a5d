// Fleet jobs of the operator API (AWS IoT Jobs semantics): create, list, inspect, cancel.

import { request } from "./client";
import type { Schemas } from "./types";

export type Job = Schemas["JobOut"];
export type JobDetail = Schemas["JobDetail"];
export type JobList = Schemas["JobList"];
export type JobCounts = Schemas["Counts"];
export type JobCreate = Schemas["JobCreate"];
export type Execution = Schemas["ExecutionOut"];
export type ExecutionPage = Schemas["ExecutionPage"];
export type ExecutionEvent = Schemas["EventOut"];
export type DeviceExecution = Schemas["DeviceExecutionOut"];
export type DeviceExecutionPage = Schemas["DeviceExecutionPage"];
export type JobStatus = Job["status"];
export type ExecutionStatus = Execution["status"];
export type JobListParams = { status?: JobStatus; document_type?: string; limit?: number; offset?: number };
/** A page of executions, of one job or of one device. */
export type ExecutionListParams = { status?: ExecutionStatus; limit?: number; offset?: number };

const jobPath = (jobId: string) => `/customer/jobs/${encodeURIComponent(jobId)}`;

export function listJobs(params: JobListParams = {}, signal?: AbortSignal): Promise<JobList> {
  return request<JobList>("/customer/jobs", { query: params, signal });
}

export function getJob(jobId: string, signal?: AbortSignal): Promise<JobDetail> {
  return request<JobDetail>(jobPath(jobId), { signal });
}

export function createJob(body: JobCreate): Promise<Job> {
  return request<Job>("/customer/jobs", { method: "POST", json: body });
}

export function cancelJob(jobId: string, reason?: string): Promise<Schemas["CancelOut"]> {
  const body: Schemas["JobCancel"] | undefined = reason ? { reason } : undefined;
  return request(jobPath(jobId), { method: "DELETE", json: body });
}

/** AWS CancelJob: QUEUED executions become CANCELED; with force, IN_PROGRESS ones too. */
export function cancelJobAws(jobId: string, body: Schemas["JobCancelRequest"]): Promise<Schemas["JobCanceledOut"]> {
  return request(`${jobPath(jobId)}/cancel`, { method: "POST", json: body });
}

/** AWS CancelJobExecution: one execution; an IN_PROGRESS one only with force. */
export function cancelExecution(
  jobId: string,
  deviceId: string,
  body: Schemas["ExecutionCancelRequest"],
): Promise<Schemas["ExecutionCanceledOut"]> {
  return request(`${jobPath(jobId)}/executions/${encodeURIComponent(deviceId)}/cancel`, { method: "POST", json: body });
}

export function listExecutions(
  jobId: string,
  params: ExecutionListParams = {},
  signal?: AbortSignal,
): Promise<ExecutionPage> {
  return request(`${jobPath(jobId)}/executions`, { query: params, signal });
}

export function executionEvents(jobId: string, deviceId: string, signal?: AbortSignal): Promise<Schemas["EventList"]> {
  return request(`${jobPath(jobId)}/executions/${encodeURIComponent(deviceId)}/events`, { signal });
}

export function deviceJobs(
  deviceId: string,
  params: ExecutionListParams = {},
  signal?: AbortSignal,
): Promise<DeviceExecutionPage> {
  return request(`/customer/devices/${encodeURIComponent(deviceId)}/jobs`, { query: params, signal });
}

/** AWS DeleteJob: the job, its executions and their history, for good; a running job with active ones needs force. */
export function deleteJob(jobId: string, force: boolean): Promise<Schemas["JobDeletedOut"]> {
  return request(`${jobPath(jobId)}/delete`, { method: "POST", json: { force } });
}

/** AWS DeleteJobExecution: one execution and its history; a QUEUED or IN_PROGRESS one needs force. */
export function deleteExecution(
  jobId: string,
  deviceId: string,
  body: Schemas["ExecutionDeleteRequest"],
): Promise<Schemas["ExecutionDeletedOut"]> {
  return request(`${jobPath(jobId)}/executions/${encodeURIComponent(deviceId)}/delete`, { method: "POST", json: body });
}
