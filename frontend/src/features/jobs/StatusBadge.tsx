import { Badge } from "@mantine/core";

import type { ExecutionStatus, JobStatus } from "../../services/api/jobs";
import { STATUS_COLORS } from "../../services/api/statuses";

export function StatusBadge({ status }: { status: JobStatus | ExecutionStatus }) {
  return (
    <Badge color={STATUS_COLORS[status] ?? "gray"} variant="light" data-status={status}>
      {status}
    </Badge>
  );
}
