// "Load more" under a keyset-paged list (the API's `next_after`): hidden at the end.

import { Button, Center, Text } from "@mantine/core";

export function LoadMore({
  hasMore,
  loading,
  onLoad,
  shown,
  what,
}: {
  hasMore: boolean;
  loading: boolean;
  onLoad: () => void;
  shown: number;
  what: string;
}) {
  return (
    <Center mt="sm">
      {hasMore ? (
        <Button variant="default" loading={loading} onClick={onLoad}>
          Load more
        </Button>
      ) : (
        <Text size="xs" c="dimmed" data-testid="list-end">
          {shown} {what}, the end of the list
        </Text>
      )}
    </Center>
  );
}
