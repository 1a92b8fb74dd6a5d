// Cancel a job, behind a confirmation that says what happens to its executions.

import { Button, List, Text, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";

import type { JobCounts } from "../../services/api/jobs";
import { fetchClient } from "../../services/api/openapi";
import { JobActionModal, useJobAction } from "./JobActionModal";
import { answer } from "./jobQueries";

export function CancelJobButton({ jobId, counts }: { jobId: string; counts: JobCounts }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const action = useJobAction(
    jobId,
    () =>
      answer(
        fetchClient.DELETE("/customer/jobs/{job_id}", {
          params: { path: { job_id: jobId } },
          body: reason.trim() ? { reason: reason.trim() } : undefined,
        }),
      ),
    (out) => {
      setOpen(false);
      notifications.show({
        color: "yellow",
        title: "Job canceled",
        message: `${out.rejected_executions} queued execution${out.rejected_executions === 1 ? "" : "s"} rejected`,
      });
    },
  );
  return (
    <>
      <Button color="red" variant="light" onClick={() => setOpen(true)}>
        Cancel job
      </Button>
      <JobActionModal
        opened={open}
        onClose={() => setOpen(false)}
        title={`Cancel job ${jobId}?`}
        action={action}
        color="red"
        keepLabel="Keep running"
        confirmLabel="Cancel job now"
      >
        <Text size="sm">Canceling stops the job from reaching any more devices:</Text>
        <List size="sm" spacing={4}>
          <List.Item>
            <b>{counts.queued}</b> QUEUED execution{counts.queued === 1 ? "" : "s"} become <b>REJECTED</b> now; those
            devices will never run it.
          </List.Item>
          <List.Item>
            <b>{counts.in_progress}</b> IN_PROGRESS execution{counts.in_progress === 1 ? "" : "s"} keep running: those
            devices may still report SUCCEEDED or FAILED.
          </List.Item>
          <List.Item>Finished executions stay as they are. The job becomes CANCELED; this cannot be undone.</List.Item>
        </List>
        <TextInput
          label="Reason (optional)"
          placeholder="e.g. wrong firmware"
          maxLength={2000}
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
        />
      </JobActionModal>
    </>
  );
}
