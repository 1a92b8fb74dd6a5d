// Cancel one execution (AWS CancelJobExecution): a QUEUED one at once, an IN_PROGRESS one only with force
// (and at the execution number shown, so an execution that moved meanwhile is not canceled blindly).

import { Button, Text } from "@mantine/core";
import { useState } from "react";

import type { Execution } from "../../services/api/jobs";
import { fetchClient } from "../../services/api/openapi";
import { JobActionModal, useJobAction } from "./JobActionModal";
import { answer } from "./jobQueries";

export function CancelExecutionButton({ jobId, execution }: { jobId: string; execution: Execution }) {
  const [open, setOpen] = useState(false);
  const force = execution.status === "IN_PROGRESS";
  const action = useJobAction(
    jobId,
    () =>
      answer(
        fetchClient.POST("/customer/jobs/{job_id}/executions/{device_id}/cancel", {
          params: { path: { job_id: jobId, device_id: execution.device_id } },
          body: force ? { force, expected_version: execution.execution_number } : { force },
        }),
      ),
    () => setOpen(false),
  );
  return (
    <>
      <Button size="compact-xs" variant="subtle" color="orange" onClick={() => setOpen(true)}>
        {force ? "Force cancel" : "Cancel"}
      </Button>
      <JobActionModal
        opened={open}
        onClose={() => setOpen(false)}
        title={`Cancel the execution of ${execution.device_id}?`}
        action={action}
        color="orange"
        keepLabel="Keep it"
        confirmLabel="Cancel execution"
      >
        <Text size="sm">
          {force
            ? "The device has started it: it becomes CANCELED anyway, and the device's next update is refused."
            : "It becomes CANCELED: the device will never run it."}
        </Text>
      </JobActionModal>
    </>
  );
}
