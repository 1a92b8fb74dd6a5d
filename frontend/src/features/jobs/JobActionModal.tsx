// What the job actions (cancel a job, the AWS way or the seed's, cancel one execution) share: a mutation
// that refreshes every view of the job once it settles, and a confirmation with its error and two buttons.

import { Alert, Button, Group, Modal, Stack } from "@mantine/core";
import { type UseMutationResult, useMutation, useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";

import { invalidateJob } from "./jobQueries";

export function useJobAction<T>(
  jobId: string,
  run: () => Promise<T>,
  onSuccess: (out: T) => void,
): UseMutationResult<T, Error, void> {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: run,
    onSuccess,
    onSettled: () => {
      invalidateJob(queryClient, jobId);
    },
  });
}

export function JobActionModal<T>({
  opened,
  onClose,
  title,
  action,
  color,
  keepLabel,
  confirmLabel,
  children,
}: {
  opened: boolean;
  onClose: () => void;
  title: string;
  action: UseMutationResult<T, Error, void>;
  color: string;
  keepLabel: string;
  confirmLabel: string;
  children: ReactNode;
}) {
  return (
    <Modal opened={opened} onClose={onClose} title={title} centered>
      <Stack gap="sm">
        {children}
        {action.error && (
          <Alert color="red" role="alert">
            {action.error.message}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            {keepLabel}
          </Button>
          <Button color={color} loading={action.isPending} onClick={() => action.mutate()}>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
