// Delete an artifact after a confirmation; while active jobs reference it the API answers 409 naming them,
// shown as links so the operator can go and cancel them.

import { Alert, Anchor, Button, Group, List, Modal, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";

import { jobsInUse } from "../../services/api/artifacts";
import { $api, pathKey } from "../../services/api/openapi";
import { errorText } from "../common/format";

export function DeleteArtifactButton({ name, onDeleted }: { name: string; onDeleted: () => void }) {
  const queryClient = useQueryClient();
  const [opened, setOpened] = useState(false);
  const detail = $api.queryOptions("get", "/customer/artifacts/{name}", { params: { path: { name } } }).queryKey;
  const remove = $api.useMutation("delete", "/customer/artifacts/{name}", {
    onSuccess: () => {
      setOpened(false);
      notifications.show({ color: "teal", title: "Artifact deleted", message: name });
      queryClient.removeQueries({ queryKey: detail });
      onDeleted();
    },
    onSettled: () => {
      void queryClient.invalidateQueries({ queryKey: pathKey("/customer/artifacts") });
      void queryClient.invalidateQueries({ queryKey: detail });
    },
  });
  const close = () => {
    setOpened(false);
    remove.reset();
  };
  const blocking = jobsInUse(remove.error);

  return (
    <>
      <Button color="red" variant="light" onClick={() => setOpened(true)}>
        Delete
      </Button>
      <Modal opened={opened} onClose={close} title={`Delete artifact ${name}?`} centered>
        <Stack gap="sm">
          <Text size="sm">
            The file is removed from the server. Jobs that already finished keep their record; a device still holding
            an old download URL gets 404. It cannot be undone.
          </Text>
          {remove.error && (
            <Alert color="red" role="alert" title={blocking.length ? "Still in use" : "The API refused the delete"}>
              <Text size="sm">{errorText(remove.error)}</Text>
              {blocking.length > 0 && (
                <>
                  <Text size="sm" mt="xs">
                    Cancel these jobs (or wait for them to finish), then delete again:
                  </Text>
                  <List size="sm" data-testid="blocking-jobs">
                    {blocking.map((jobId) => (
                      <List.Item key={jobId}>
                        <Anchor component={Link} to={`/jobs/${encodeURIComponent(jobId)}`} ff="monospace">
                          {jobId}
                        </Anchor>
                      </List.Item>
                    ))}
                  </List>
                </>
              )}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Keep it
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => remove.mutate({ params: { path: { name } } })}>
              Delete artifact
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
