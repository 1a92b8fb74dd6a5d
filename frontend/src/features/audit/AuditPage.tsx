// The operator audit log: who did what to which target, newest first, "Load more" with the API's keyset
// (`next_after`), filters kept in the URL query (action, target type and id, actor, since/until in UTC).

import { Anchor, Autocomplete, Badge, Button, Code, Group, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { Fragment, useEffect, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { $api, fetchClient } from "../../services/api/openapi";
import { LoadMore } from "../common/LoadMore";
import { JsonBlock } from "../common/JsonBlock";
import { Empty, QueryState } from "../common/QueryState";
import { formatTime } from "../common/format";
import { parseUtc, utcText } from "../jobs/rolloutForm";
import {
  AUDIT_ACTIONS,
  FILTER_KEYS,
  TARGET_TYPES,
  deletedTargets,
  filtersFrom,
  targetLink,
  type AuditEntry,
  type FilterKey,
} from "./auditView";

export const AUDIT_PAGE = 50;

type Draft = Record<FilterKey, string>;

function draftFrom(params: URLSearchParams): Draft {
  const f = filtersFrom(params);
  return {
    action: f.action ?? "",
    target_type: f.target_type ?? "",
    target_id: f.target_id ?? "",
    actor: f.actor ?? "",
    since: f.since ? utcText(f.since) : "",
    until: f.until ? utcText(f.until) : "",
  };
}

function Filters() {
  const [params, setParams] = useSearchParams();
  const [draft, setDraft] = useState<Draft>(() => draftFrom(params));
  const [errors, setErrors] = useState<Partial<Draft>>({});
  const query = params.toString();
  useEffect(() => setDraft(draftFrom(new URLSearchParams(query))), [query]); // Back, a link
  const set = (key: FilterKey, value: string) => setDraft((d) => ({ ...d, [key]: value }));

  function apply(e: FormEvent) {
    e.preventDefault();
    const next = new URLSearchParams();
    const errs: Partial<Draft> = {};
    for (const key of FILTER_KEYS) {
      const value = draft[key].trim();
      if (!value) continue;
      if (key === "since" || key === "until") {
        const t = parseUtc(value);
        if ("error" in t) errs[key] = t.error;
        else if ("value" in t) next.set(key, t.value);
      } else {
        next.set(key, value);
      }
    }
    setErrors(errs);
    if (!Object.keys(errs).length) setParams(next);
  }

  return (
    <form onSubmit={apply} aria-label="audit filters">
      <Group align="flex-end" gap="sm" wrap="wrap">
        <Autocomplete
          label="Action"
          placeholder="any"
          data={[...AUDIT_ACTIONS]}
          value={draft.action}
          onChange={(v) => set("action", v)}
          w={190}
        />
        <Select
          label="Target type"
          placeholder="any"
          clearable
          data={[...TARGET_TYPES]}
          value={draft.target_type || null}
          onChange={(v) => set("target_type", v ?? "")}
          w={140}
        />
        <TextInput label="Target id" placeholder="any" value={draft.target_id} onChange={(e) => set("target_id", e.currentTarget.value)} w={180} />
        <TextInput label="Actor" placeholder="e-mail or cli" value={draft.actor} onChange={(e) => set("actor", e.currentTarget.value)} w={180} />
        <TextInput
          label="Since (UTC)"
          placeholder="2026-12-01 00:00"
          value={draft.since}
          onChange={(e) => set("since", e.currentTarget.value)}
          error={errors.since}
          w={160}
        />
        <TextInput
          label="Until (UTC)"
          placeholder="2026-12-02 00:00"
          value={draft.until}
          onChange={(e) => set("until", e.currentTarget.value)}
          error={errors.until}
          w={160}
        />
        <Button type="submit">Apply</Button>
        <Button variant="default" onClick={() => setParams(new URLSearchParams())} disabled={!query}>
          Clear
        </Button>
      </Group>
    </form>
  );
}

function Target({ entry, deleted }: { entry: AuditEntry; deleted: ReadonlySet<string> }) {
  const link = targetLink(entry, deleted);
  const label = (
    <>
      <Text span size="xs" c="dimmed">
        {entry.target_type}{" "}
      </Text>
      <Text span ff="monospace" size="sm">
        {entry.target_id}
      </Text>
    </>
  );
  return link ? (
    <Anchor component={Link} to={link} data-testid="audit-target-link">
      {label}
    </Anchor>
  ) : (
    label
  );
}

export function AuditPage() {
  const [params] = useSearchParams();
  const filters = filtersFrom(params);
  const [open, setOpen] = useState<ReadonlySet<number>>(new Set());
  const query = { ...filters, limit: AUDIT_PAGE };
  // One infinite query per filter holds every page: its key is the typed client's for the first page (`after`,
  // the keyset, is the page parameter), so invalidating pathKey("/customer/audit") reaches it.
  const audit = useInfiniteQuery({
    queryKey: $api.queryOptions("get", "/customer/audit", { params: { query } }).queryKey,
    queryFn: async ({ pageParam, signal }) =>
      (await fetchClient.GET("/customer/audit", { params: { query: { ...query, after: pageParam } }, signal })).data!,
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.next_after ?? undefined,
  });
  const entries = audit.data?.pages.flatMap((p) => p.entries);
  const toggle = (id: number) =>
    setOpen((s) => {
      const next = new Set(s);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  return (
    <Stack gap="md">
      <Title order={2}>Audit log</Title>
      <Text size="sm" c="dimmed">
        Every operator action (jobs created, canceled or deleted, executions canceled or deleted, templates, device
        revocations, twin edits), newest first. A refused action leaves no entry.
      </Text>
      <Filters />
      <QueryState what="audit log" data={entries} error={audit.error} onRetry={() => void audit.refetch()}>
        {(list) => {
          if (list.length === 0) return <Empty>{Object.keys(filters).length ? "No entry matches these filters." : "No entries yet."}</Empty>;
          const deleted = deletedTargets(list);
          return (
            <>
              <Table striped aria-label="audit log" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>When</Table.Th>
                    <Table.Th>Who</Table.Th>
                    <Table.Th>Action</Table.Th>
                    <Table.Th>Target</Table.Th>
                    <Table.Th>Details</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {list.map((e) => (
                    <Fragment key={e.audit_id}>
                      <Table.Tr data-audit-id={e.audit_id} data-action={e.action}>
                        <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(e.at)}</Table.Td>
                        <Table.Td>{e.actor}</Table.Td>
                        <Table.Td>
                          <Badge variant="light" tt="none">
                            {e.action}
                          </Badge>
                        </Table.Td>
                        <Table.Td>
                          <Target entry={e} deleted={deleted} />
                        </Table.Td>
                        <Table.Td>
                          {Object.keys(e.details).length ? (
                            <Group gap={4} wrap="nowrap">
                              <Code style={{ maxWidth: 320, overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" }}>
                                {JSON.stringify(e.details)}
                              </Code>
                              <Button size="compact-xs" variant="subtle" onClick={() => toggle(e.audit_id)} aria-expanded={open.has(e.audit_id)}>
                                {open.has(e.audit_id) ? "Hide" : "Show"}
                              </Button>
                            </Group>
                          ) : (
                            <Text c="dimmed">—</Text>
                          )}
                        </Table.Td>
                      </Table.Tr>
                      {open.has(e.audit_id) && (
                        <Table.Tr>
                          <Table.Td colSpan={5}>
                            <JsonBlock value={e.details} label={`details of entry ${e.audit_id}`} />
                          </Table.Td>
                        </Table.Tr>
                      )}
                    </Fragment>
                  ))}
                </Table.Tbody>
              </Table>
              <LoadMore
                hasMore={audit.hasNextPage}
                loading={audit.isFetchingNextPage}
                onLoad={() => void audit.fetchNextPage()}
                shown={list.length}
                what="entries"
              />
            </>
          );
        }}
      </QueryState>
    </Stack>
  );
}
