// Cancel a job the AWS way (CancelJob): its QUEUED executions become CANCELED, and with "force" its
// IN_PROGRESS ones too. Behind a confirmation that says what happens to its executions.

import { Alert, Button, Checkbox, Group, List, Modal, Stack, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { cancelJobAws, type JobCounts } from "../../services/api/jobs";
import { queryKeys } from "../../services/api/queryKeys";

export function ForceCancelJobButton({ jobId, counts }: { jobId: string; counts: JobCounts }) {
  const [open, setOpen] = useState(false);
  const [force, setForce] = useState(false);
  const [comment, setComment] = useState("");
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: () => cancelJobAws(jobId, { force, comment: comment.trim() || undefined }),
    onSuccess: (out) => {
      setOpen(false);
      const n = out.canceled_executions;
      notifications.show({ color: "yellow", title: "Job canceled", message: `${n} execution${n === 1 ? "" : "s"} canceled` });
    },
    onSettled: () => {
      for (const queryKey of queryKeys.jobs.views(jobId)) void queryClient.invalidateQueries({ queryKey });
    },
  });
  return (
    <>
      <Button color="orange" variant="light" onClick={() => setOpen(true)}>
        Cancel
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={`Cancel job ${jobId} (CancelJob)?`} centered>
        <Stack gap="sm">
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
          {mutation.error && (
            <Alert color="red" role="alert">
              {mutation.error.message}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpen(false)}>
              Keep running
            </Button>
            <Button color="orange" loading={mutation.isPending} onClick={() => mutation.mutate()}>
              Cancel now
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
