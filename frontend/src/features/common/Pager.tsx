import { Group, Pagination, Text } from "@mantine/core";

/** Offset pagination over `total` rows, `limit` a page. */
export function Pager(props: { total: number; limit: number; offset: number; onChange: (offset: number) => void; label: string }) {
  const { total, limit, offset, onChange, label } = props;
  if (total <= limit) return null;
  const pages = Math.ceil(total / limit);
  const page = Math.floor(offset / limit) + 1;
  return (
    <Group justify="space-between" mt="sm">
      <Text size="sm" c="dimmed">
        {offset + 1}–{Math.min(offset + limit, total)} of {total}
      </Text>
      <Pagination
        total={pages}
        value={page}
        onChange={(p) => onChange((p - 1) * limit)}
        size="sm"
        getControlProps={(control) => ({ "aria-label": `${label} ${control} page` })}
      />
    </Group>
  );
}
