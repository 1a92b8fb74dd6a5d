// Create a device; its provision token is shown once, with a copy button and a warning.

import { Alert, Button, Group, JsonInput, Modal, Stack, TextInput } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";

import type { DeviceWithToken } from "../../services/api/devices";
import { $api, apiError, pathKey } from "../../services/api/openapi";
import { TokenReveal } from "../common/TokenReveal";
import { parseParams } from "../jobs/jobForm";

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export function CreateDeviceModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  return (
    <Modal opened={opened} onClose={onClose} title="Create device" size="lg" centered closeOnClickOutside={false}>
      {opened && <CreateDeviceForm onClose={onClose} />}
    </Modal>
  );
}

function CreateDeviceForm({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const [deviceId, setDeviceId] = useState("");
  const [name, setName] = useState("");
  const [attributes, setAttributes] = useState("{}");
  const [created, setCreated] = useState<DeviceWithToken | null>(null);
  const mutation = $api.useMutation("post", "/customer/devices", {
    onSuccess: (device) => {
      setCreated(device);
      void queryClient.invalidateQueries({ queryKey: pathKey("/customer/devices") });
    },
  });
  const idError = deviceId.trim() && !ID_PATTERN.test(deviceId.trim()) ? "letters, digits, _ . : - (at most 128)" : undefined;
  const attrs = parseParams(attributes);

  if (created) {
    return (
      <Stack>
        <TokenReveal deviceId={created.device_id} token={created.provision_token} />
        <Group justify="flex-end">
          <Button component={Link} to={`/devices/${encodeURIComponent(created.device_id)}`} variant="default" onClick={onClose}>
            Open device
          </Button>
          <Button onClick={onClose}>Done</Button>
        </Group>
      </Stack>
    );
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    if (idError || attrs.error) return;
    mutation.mutate({
      body: { device_id: deviceId.trim() || null, name: name.trim(), attributes: attrs.value ?? {} },
    });
  }

  return (
    <form onSubmit={submit} noValidate aria-label="create device">
      <Stack gap="sm">
        <TextInput
          label="Device ID (optional)"
          description="Generated when empty"
          value={deviceId}
          onChange={(e) => setDeviceId(e.currentTarget.value)}
          error={idError}
        />
        <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} maxLength={200} />
        <JsonInput
          label="Attributes (JSON)"
          autosize
          minRows={2}
          value={attributes}
          onChange={setAttributes}
          error={attrs.error}
          styles={{ input: { fontFamily: "monospace" } }}
        />
        {mutation.error && (
          <Alert color="red" role="alert">
            {apiError(mutation.error)?.message}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={mutation.isPending} disabled={!!idError || !!attrs.error}>
            Create device
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
