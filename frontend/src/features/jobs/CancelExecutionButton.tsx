// Cancel one execution (AWS CancelJobExecution): a QUEUED one at once, an IN_PROGRESS one only with force
// (and at the execution number shown, so an execution that moved meanwhile is not canceled blindly).

import { Alert, Button, Group, Modal, Stack, Text } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { cancelExecution, type Execution } from "../../services/api/jobs";
import { queryKeys } from "../../services/api/queryKeys";

export function CancelExecutionButton({ jobId, execution }: { jobId: string; execution: Execution }) {
  const [open, setOpen] = useState(false);
  const force = execution.status === "IN_PROGRESS";
  const queryClient = useQueryClient();
  const mutation = useMutation({
    mutationFn: () =>
      cancelExecution(jobId, execution.device_id, force ? { force, expected_version: execution.execution_number } : { force }),
    onSuccess: () => setOpen(false),
    onSettled: () => {
      for (const queryKey of queryKeys.jobs.views(jobId)) void queryClient.invalidateQueries({ queryKey });
    },
  });
  return (
    <>
      <Button size="compact-xs" variant="subtle" color="orange" onClick={() => setOpen(true)}>
        {force ? "Force cancel" : "Cancel"}
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title={`Cancel the execution of ${execution.device_id}?`} centered>
        <Stack gap="sm">
          <Text size="sm">
            {force
              ? "The device has started it: it becomes CANCELED anyway, and the device's next update is refused."
              : "It becomes CANCELED: the device will never run it."}
          </Text>
          {mutation.error && (
            <Alert color="red" role="alert">
              {mutation.error.message}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpen(false)}>
              Keep it
            </Button>
            <Button color="orange" loading={mutation.isPending} onClick={() => mutation.mutate()}>
              Cancel execution
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
