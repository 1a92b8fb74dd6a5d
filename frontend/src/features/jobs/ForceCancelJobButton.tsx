// Cancel a job the AWS way (CancelJob): its QUEUED executions become CANCELED, and with "force" its
// IN_PROGRESS ones too. Behind a confirmation that says what happens to its executions.

import { Button, Checkbox, List, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";

import type { JobCounts } from "../../services/api/jobs";
import { fetchClient } from "../../services/api/openapi";
import { JobActionModal, useJobAction } from "./JobActionModal";
import { answer } from "./jobQueries";

export function ForceCancelJobButton({ jobId, counts }: { jobId: string; counts: JobCounts }) {
  const [open, setOpen] = useState(false);
  const [force, setForce] = useState(false);
  const [comment, setComment] = useState("");
  const action = useJobAction(
    jobId,
    () =>
      answer(
        fetchClient.POST("/customer/jobs/{job_id}/cancel", {
          params: { path: { job_id: jobId } },
          body: { force, comment: comment.trim() || undefined },
        }),
      ),
    (out) => {
      setOpen(false);
      const n = out.canceled_executions;
      notifications.show({ color: "yellow", title: "Job canceled", message: `${n} execution${n === 1 ? "" : "s"} canceled` });
    },
  );
  return (
    <>
      <Button color="orange" variant="light" onClick={() => setOpen(true)}>
        Cancel
      </Button>
      <JobActionModal
        opened={open}
        onClose={() => setOpen(false)}
        title={`Cancel job ${jobId} (CancelJob)?`}
        action={action}
        color="orange"
        keepLabel="Keep running"
        confirmLabel="Cancel now"
      >
        <List size="sm" spacing={4}>
          <List.Item>
            <b>{counts.queued}</b> QUEUED execution{counts.queued === 1 ? "" : "s"} become <b>CANCELED</b> now.
          </List.Item>
          <List.Item>
            <b>{counts.in_progress}</b> IN_PROGRESS execution{counts.in_progress === 1 ? "" : "s"}{" "}
            {force ? (
              <>
                become <b>CANCELED</b> too: their devices' next update is refused.
              </>
            ) : (
              "keep running: those devices may still finish."
            )}
          </List.Item>
          <List.Item>The job becomes CANCELED; this cannot be undone.</List.Item>
        </List>
        <Checkbox
          label="Force: cancel IN_PROGRESS executions too"
          checked={force}
          onChange={(e) => setForce(e.currentTarget.checked)}
        />
        <TextInput
          label="Comment (optional)"
          maxLength={2000}
          value={comment}
          onChange={(e) => setComment(e.currentTarget.value)}
        />
      </JobActionModal>
    </>
  );
}
