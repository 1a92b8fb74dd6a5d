// Delete a template (AWS DeleteJobTemplate) after a confirmation; jobs made from it stay, with its id.

import { Alert, Button, Group, Modal, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { fetchClient, pathKey } from "../../services/api/openapi";
import { answer } from "../jobs/jobQueries";

export function DeleteTemplateButton({ templateId, onDeleted }: { templateId: string; onDeleted: () => void }) {
  const queryClient = useQueryClient();
  const [opened, setOpened] = useState(false);
  const remove = useMutation({
    mutationFn: () =>
      answer(fetchClient.DELETE("/customer/job-templates/{template_id}", { params: { path: { template_id: templateId } } })),
    onSuccess: () => {
      setOpened(false);
      notifications.show({ color: "teal", title: "Template deleted", message: templateId });
      queryClient.removeQueries({
        queryKey: pathKey("/customer/job-templates/{template_id}"),
        predicate: (q) => (q.queryKey[2] as { params?: { path?: { template_id?: string } } } | undefined)?.params?.path?.template_id === templateId,
      });
      onDeleted();
    },
    onSettled: () => void queryClient.invalidateQueries({ queryKey: pathKey("/customer/job-templates") }),
  });
  const close = () => {
    setOpened(false);
    remove.reset();
  };
  return (
    <>
      <Button color="red" variant="outline" onClick={() => setOpened(true)}>
        Delete template
      </Button>
      <Modal opened={opened} onClose={close} title={`Delete template ${templateId}?`} centered>
        <Stack gap="sm">
          <Text size="sm">
            The template is deleted; no new job can be made from it. Jobs already made from it keep running and keep its
            id. It cannot be undone (a template with the same id can be created again).
          </Text>
          {remove.error && (
            <Alert color="red" role="alert" title="The API refused the delete">
              {remove.error.message}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Keep it
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
              Delete template
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
