// Cancel a job, behind a confirmation that says what happens to its executions.

import { Alert, Button, Group, List, Modal, Stack, Text, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { cancelJob, type JobCounts } from "../../services/api/jobs";
import { queryKeys } from "../../services/api/queryKeys";

export function CancelJobButton({ jobId, counts }: { jobId: string; counts: JobCounts }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: () => cancelJob(jobId, reason.trim() || undefined),
    onSuccess: (out) => {
      setOpen(false);
      notifications.show({
        color: "yellow",
        title: "Job canceled",
        message: `${out.rejected_executions} queued execution${out.rejected_executions === 1 ? "" : "s"} rejected`,
      });
    },
    onSettled: () => {
      for (const queryKey of queryKeys.jobs.views(jobId)) void queryClient.invalidateQueries({ queryKey });
    },
  });
  return (
    <>
      <Button color="red" variant="light" onClick={() => setOpen(true)}>
        Cancel job
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={`Cancel job ${jobId}?`} centered>
        <Stack gap="sm">
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
          {mutation.error && (
            <Alert color="red" role="alert">
              {mutation.error.message}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpen(false)}>
              Keep running
            </Button>
            <Button color="red" loading={mutation.isPending} onClick={() => mutation.mutate()}>
              Cancel job now
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
