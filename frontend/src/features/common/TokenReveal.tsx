// A device's provision token, shown once: the API keeps only its hash.

import { Alert, Button, Code, CopyButton, Group, Stack, Text } from "@mantine/core";

export function TokenReveal({ deviceId, token }: { deviceId: string; token: string }) {
  return (
    <Stack gap="sm" data-testid="token-reveal">
      <Alert color="yellow" title="Copy this token now" role="status">
        This is the only time the provision token of <b>{deviceId}</b> is shown. iotcloud stores only its hash: if
        you lose it, rotate the token (the old one stops working).
      </Alert>
      <Group wrap="nowrap" gap="xs">
        <Code block style={{ flex: 1, wordBreak: "break-all" }} data-testid="provision-token">
          {token}
        </Code>
        <CopyButton value={token}>
          {({ copied, copy }) => (
            <Button color={copied ? "teal" : "blue"} onClick={copy} variant="light">
              {copied ? "Copied" : "Copy"}
            </Button>
          )}
        </CopyButton>
      </Group>
      <Text size="xs" c="dimmed">
        Devices send it as the X-Provision-Token header to the device API.
      </Text>
    </Stack>
  );
}
