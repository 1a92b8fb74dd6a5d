// A new user's generated password, shown once: the API stores only its hash.

import { Alert, Button, Code, CopyButton, Group, Stack, Text } from "@mantine/core";

export function PasswordReveal({ email, password }: { email: string; password: string }) {
  return (
    <Stack gap="sm" data-testid="password-reveal">
      <Alert color="yellow" title="Copy the password now" role="status">
        This is the only time the password of <b>{email}</b> is shown: iotcloud stores only its hash. Give it to
        them over a safe channel.
      </Alert>
      <Group wrap="nowrap" gap="xs">
        <Code block style={{ flex: 1, wordBreak: "break-all" }} data-testid="new-password">
          {password}
        </Code>
        <CopyButton value={password}>
          {({ copied, copy }) => (
            <Button color={copied ? "teal" : "blue"} onClick={copy} variant="light" aria-label="Copy password">
              {copied ? "Copied" : "Copy"}
            </Button>
          )}
        </CopyButton>
      </Group>
      <Text size="xs" c="dimmed">
        They sign in to this console with their e-mail and this password.
      </Text>
    </Stack>
  );
}
