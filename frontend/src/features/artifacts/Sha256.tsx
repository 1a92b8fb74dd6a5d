// A SHA-256 shown short (its first 12 hex digits), the whole of it in a tooltip and a copy button.

import { ActionIcon, Code, CopyButton, Group, Tooltip } from "@mantine/core";

function CopyIcon({ copied }: { copied: boolean }) {
  return (
    <svg width="14" height="14" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
      {copied ? (
        <path d="M5 12l5 5L20 7" />
      ) : (
        <>
          <rect x="9" y="9" width="12" height="12" rx="2" />
          <path d="M5 15H4a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1h10a1 1 0 0 1 1 1v1" />
        </>
      )}
    </svg>
  );
}

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
              <CopyIcon copied={copied} />
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}
