// Fleet jobs of the operator API (AWS IoT Jobs semantics): the schema's shapes under short names. The jobs and
// templates screens call the typed client ($api, fetchClient in openapi.ts); `deviceJobs` remains for the
// device pages' jobs panel (features/devices), which has not moved to it yet.

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
/** A page of executions, of one job or of one device. */
export type ExecutionListParams = { status?: ExecutionStatus; limit?: number; offset?: number };
