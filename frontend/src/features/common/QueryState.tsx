// Loading, error and empty states shared by every screen.

import { Alert, Button, Center, Group, Loader, Text } from "@mantine/core";
import type { ReactNode } from "react";

import { errorText } from "./format";

export function Loading({ what }: { what: string }) {
  return (
    <Center py="xl" aria-busy="true">
      <Group gap="xs">
        <Loader size="sm" />
        <Text c="dimmed">Loading {what}…</Text>
      </Group>
    </Center>
  );
}

export function ErrorAlert({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  return (
    <Alert color="red" role="alert" title="Something went wrong" my="sm">
      <Group justify="space-between" wrap="nowrap">
        <Text size="sm" data-testid="error-message">
          {errorText(error)}
        </Text>
        {onRetry && (
          <Button size="xs" variant="light" color="red" onClick={onRetry}>
            Retry
          </Button>
        )}
      </Group>
    </Alert>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Text c="dimmed" ta="center" py="lg" data-testid="empty">
      {children}
    </Text>
  );
}

/** Renders loading / error / content for one query's data. */
export function QueryState<T>(props: {
  what: string;
  data: T | undefined;
  error: unknown;
  onRetry?: () => void;
  children: (data: T) => ReactNode;
}) {
  const { what, data, error, onRetry, children } = props;
  if (data === undefined) {
    return error ? <ErrorAlert error={error} onRetry={onRetry} /> : <Loading what={what} />;
  }
  return (
    <>
      {error ? <ErrorAlert error={error} onRetry={onRetry} /> : null}
      {children(data)}
    </>
  );
}
