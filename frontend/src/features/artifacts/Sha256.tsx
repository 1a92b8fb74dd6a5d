// A SHA-256 shown short (its first 12 hex digits), the whole of it in a tooltip and a copy button.

import { ActionIcon, Code, CopyButton, Group, Tooltip } from "@mantine/core";

export function Sha256({ value }: { value: string }) {
  return (
    <Group gap={4} wrap="nowrap">
      <Tooltip label={value} withArrow>
        <Code data-sha256={value}>{value.slice(0, 12)}…</Code>
      </Tooltip>
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? "Copied" : "Copy the SHA-256"} withArrow>
            <ActionIcon
              size="sm"
              variant="subtle"
              color={copied ? "teal" : "gray"}
              onClick={copy}
              aria-label={copied ? "SHA-256 copied" : "Copy SHA-256"}
            >
              {copied ? "✓" : "⧉"}
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}
