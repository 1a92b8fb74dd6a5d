// Delete one execution and its history (AWS DeleteJobExecution), at the execution number shown (so one that
// was queued again meanwhile is not deleted blindly). A QUEUED or IN_PROGRESS one needs "force": the API's
// 409 says so, and the confirmation then offers it.

import { Alert, Button, Text } from "@mantine/core";
import { useRef, useState } from "react";

import type { Execution } from "../../services/api/jobs";
import { fetchClient } from "../../services/api/openapi";
import { isOpenExecution } from "../../services/api/statuses";
import { JobActionModal, useJobAction } from "./JobActionModal";
import { needsForce } from "./forceNeeded";
import { answer } from "./jobQueries";

export function DeleteExecutionButton({ jobId, execution }: { jobId: string; execution: Execution }) {
  const [open, setOpen] = useState(false);
  const [force, setForce] = useState(false);
  const forceRef = useRef(false);
  const action = useJobAction(
    jobId,
    () =>
      answer(
        fetchClient.POST("/customer/jobs/{job_id}/executions/{device_id}/delete", {
          params: { path: { job_id: jobId, device_id: execution.device_id } },
          body: { force: forceRef.current, execution_number: execution.execution_number },
        }),
      ),
    () => setOpen(false),
  );
  const setForced = (value: boolean) => {
    forceRef.current = value;
    setForce(value);
  };
  const close = () => {
    setOpen(false);
    setForced(false);
    action.reset();
  };
  return (
    <>
      <Button size="compact-xs" variant="subtle" color="red" onClick={() => setOpen(true)}>
        Delete
      </Button>
      <JobActionModal
        opened={open}
        onClose={close}
        title={`Delete the execution of ${execution.device_id}?`}
        action={action}
        color="red"
        keepLabel="Keep it"
        confirmLabel={force ? "Delete with force" : "Delete execution"}
      >
        <Text size="sm">
          Execution #{execution.execution_number} ({execution.status}) and its history are gone for good, and its count is
          taken off the job. It cannot be undone.
        </Text>
        {isOpenExecution(execution.status) && (
          <Text size="sm">
            It is still {execution.status}: it is deleted only with force, and the device gets 404 on its next update.
            If it is the job's last active execution, the job completes.
          </Text>
        )}
        {needsForce(action.error) && !force && (
          <Alert color="orange" title="This execution needs force" data-testid="force-needed">
            <Text size="sm" mb="xs">
              The device has not finished it. Deleting with force removes it anyway; the device gets 404 on its next
              update.
            </Text>
            <Button
              color="red"
              size="xs"
              onClick={() => {
                setForced(true);
                action.mutate();
              }}
            >
              Delete with force
            </Button>
          </Alert>
        )}
      </JobActionModal>
    </>
  );
}
