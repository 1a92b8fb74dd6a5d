// A device's twin: desired / reported / delta side by side, and an editor for desired.

import { Alert, Button, Card, Group, JsonInput, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { ApiError } from "../../services/api/client";
import type { Twin } from "../../services/api/devices";
import { $api, apiError } from "../../services/api/openapi";
import { JsonBlock } from "../common/JsonBlock";
import { QueryState } from "../common/QueryState";
import { formatTime } from "../common/format";
import { mergePatchFrom, parseDesired } from "./twinPatch";

export function TwinPanel({ deviceId, editable }: { deviceId: string; editable: boolean }) {
  const twin = $api.useQuery("get", "/customer/devices/{device_id}/twin", ofDevice(deviceId));
  const [editing, setEditing] = useState(false);
  return (
    <Card withBorder>
      <Group justify="space-between" mb="xs">
        <Title order={4}>Twin</Title>
        {editable && twin.data && !editing && (
          <Button size="xs" variant="light" onClick={() => setEditing(true)}>
            Edit desired
          </Button>
        )}
      </Group>
      <QueryState what="twin" data={twin.data} error={twin.error} onRetry={() => void twin.refetch()}>
        {(t) => (
          <Stack gap="sm">
            <SimpleGrid cols={{ base: 1, md: 3 }}>
              <div aria-label="desired state" role="group">
                <Text size="sm" fw={600}>
                  Desired <Text span c="dimmed" size="xs">v{t.desired_version}</Text>
                </Text>
                <JsonBlock value={t.desired} />
              </div>
              <div aria-label="reported state" role="group">
                <Text size="sm" fw={600}>
                  Reported <Text span c="dimmed" size="xs">v{t.reported_version}</Text>
                </Text>
                <JsonBlock value={t.reported} />
              </div>
              <div aria-label="delta" role="group">
                <Text size="sm" fw={600}>
                  Delta{" "}
                  <Text span c="dimmed" size="xs">
                    {Object.keys(t.delta).length ? "desired, not yet reported" : "in sync"}
                  </Text>
                </Text>
                <JsonBlock value={t.delta} />
              </div>
            </SimpleGrid>
            <Text size="xs" c="dimmed">
              Updated {formatTime(t.updated_at)}
            </Text>
            {editing && <DesiredEditor deviceId={deviceId} twin={t} onDone={() => setEditing(false)} />}
          </Stack>
        )}
      </QueryState>
    </Card>
  );
}

const isVersionConflict = (error: unknown) => error instanceof ApiError && error.status === 409;

const ofDevice = (deviceId: string) => ({ params: { path: { device_id: deviceId } } });
const twinKey = (deviceId: string) => $api.queryOptions("get", "/customer/devices/{device_id}/twin", ofDevice(deviceId)).queryKey;

/** Edits desired against `twin`; after a version conflict the panel reloads the twin and the edit is kept for it. */
function DesiredEditor({ deviceId, twin, onDone }: { deviceId: string; twin: Twin; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [text, setText] = useState(() => JSON.stringify(twin.desired, null, 2));
  const parsed = parseDesired(text);
  const mutation = $api.useMutation("patch", "/customer/devices/{device_id}/twin", {
    onSuccess: (next) => {
      queryClient.setQueryData(twinKey(deviceId), next);
      const detail = $api.queryOptions("get", "/customer/devices/{device_id}", ofDevice(deviceId)).queryKey;
      void queryClient.invalidateQueries({ queryKey: detail });
      notifications.show({ color: "teal", title: "Desired state saved", message: `version ${next.desired_version}` });
      onDone();
    },
    onError: (error) => {
      if (isVersionConflict(error)) void queryClient.invalidateQueries({ queryKey: twinKey(deviceId) });
    },
  });
  return (
    <Stack gap="xs">
      <JsonInput
        label="Desired state (JSON)"
        description="Saved as a merge patch against the version shown; removing a key deletes it"
        autosize
        minRows={4}
        maxRows={16}
        value={text}
        onChange={setText}
        error={parsed.error}
        styles={{ input: { fontFamily: "monospace" } }}
      />
      {mutation.error && (
        <Alert color="red" role="alert">
          {apiError(mutation.error)?.message}
          {isVersionConflict(mutation.error)
            ? " — the twin above now shows the current desired state: check your edit against it and save again."
            : ""}
        </Alert>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={onDone}>
          Discard
        </Button>
        <Button
          loading={mutation.isPending}
          disabled={!parsed.value}
          onClick={() =>
            parsed.value &&
            mutation.mutate({
              ...ofDevice(deviceId),
              body: { desired: mergePatchFrom(twin.desired, parsed.value), expected_version: twin.desired_version },
            })
          }
        >
          Save desired
        </Button>
      </Group>
    </Stack>
  );
}
