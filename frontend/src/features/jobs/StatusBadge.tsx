import { Badge } from "@mantine/core";

import type { ExecutionStatus, JobStatus } from "../../services/api/jobs";

const COLOR: Record<JobStatus | ExecutionStatus, string> = {
  SCHEDULED: "indigo",
  QUEUED: "gray",
  IN_PROGRESS: "blue",
  SUCCEEDED: "teal",
  COMPLETED: "teal",
  FAILED: "red",
  TIMED_OUT: "orange",
  REJECTED: "grape",
  CANCELED: "yellow",
  REMOVED: "dark",
};

export function StatusBadge({ status }: { status: JobStatus | ExecutionStatus }) {
  return (
    <Badge color={COLOR[status] ?? "gray"} variant="light" data-status={status}>
      {status}
    </Badge>
  );
}
