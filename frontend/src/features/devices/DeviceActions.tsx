// Revoke a device, or rotate its provision token (the new token is shown once).

import { Alert, Button, Group, Modal, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import type { Device, ProvisionToken } from "../../services/api/devices";
import { $api, apiError, pathKey } from "../../services/api/openapi";
import { TokenReveal } from "../common/TokenReveal";

type Dialog = "revoke" | "rotate" | null;

export function DeviceActions({ device }: { device: Device }) {
  const queryClient = useQueryClient();
  const [dialog, setDialog] = useState<Dialog>(null);
  const [token, setToken] = useState<ProvisionToken | null>(null);
  const ofDevice = { params: { path: { device_id: device.device_id } } };
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: $api.queryOptions("get", "/customer/devices/{device_id}", ofDevice).queryKey });
    void queryClient.invalidateQueries({ queryKey: pathKey("/customer/devices") });
  };
  const revoke = $api.useMutation("post", "/customer/devices/{device_id}/revoke", {
    onSuccess: () => {
      setDialog(null);
      notifications.show({ color: "red", title: "Device revoked", message: `${device.device_id} can no longer authenticate` });
    },
    onSettled: refresh,
  });
  const rotate = $api.useMutation("post", "/customer/devices/{device_id}/rotate-token", { onSuccess: setToken, onSettled: refresh });
  const close = () => {
    setDialog(null);
    setToken(null);
    revoke.reset();
    rotate.reset();
  };
  const revoked = device.status === "REVOKED";

  return (
    <>
      <Button variant="default" disabled={revoked} onClick={() => setDialog("rotate")}>
        Rotate token
      </Button>
      <Button color="red" variant="light" disabled={revoked} onClick={() => setDialog("revoke")}>
        Revoke
      </Button>
      <Modal opened={dialog === "revoke"} onClose={close} title={`Revoke ${device.device_id}?`} centered>
        <Stack>
          <Text size="sm">
            The device's token stops working at once and it gets no more jobs. It stays listed as REVOKED; this cannot
            be undone.
          </Text>
          {revoke.error && <Alert color="red" role="alert">{apiError(revoke.error)?.message}</Alert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Keep it
            </Button>
            <Button color="red" loading={revoke.isPending} onClick={() => revoke.mutate(ofDevice)}>
              Revoke device
            </Button>
          </Group>
        </Stack>
      </Modal>
      <Modal
        opened={dialog === "rotate"}
        onClose={close}
        title={`Rotate the token of ${device.device_id}`}
        size="lg"
        centered
        closeOnClickOutside={!token}
      >
        {token ? (
          <Stack>
            <TokenReveal deviceId={token.device_id} token={token.provision_token} />
            <Group justify="flex-end">
              <Button onClick={close}>Done</Button>
            </Group>
          </Stack>
        ) : (
          <Stack>
            <Text size="sm">
              A new provision token replaces the current one, which stops working at once: the device needs the new one.
            </Text>
            {rotate.error && <Alert color="red" role="alert">{apiError(rotate.error)?.message}</Alert>}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button loading={rotate.isPending} onClick={() => rotate.mutate(ofDevice)}>
                Rotate token
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}
