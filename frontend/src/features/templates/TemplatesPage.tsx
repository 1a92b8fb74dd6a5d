// The tenant's job templates (AWS IoT job templates), by id with keyset paging, and Create Template.

import { Anchor, Button, Group, Table, Text, Title } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { $api, fetchClient } from "../../services/api/openapi";
import { canWrite } from "../../services/api/session";
import { answer } from "../jobs/jobQueries";
import { LoadMore } from "../common/LoadMore";
import { Empty, QueryState } from "../common/QueryState";
import { formatTime } from "../common/format";
import { CreateTemplateModal } from "./CreateTemplateModal";

export const PAGE = 25;
export const templateLink = (templateId: string) => `/templates/${encodeURIComponent(templateId)}`;

export function TemplatesPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  // One infinite query holds every page: its key is the typed client's for the first page (`after` is not in it).
  const first = { params: { query: { limit: PAGE } } };
  const templates = useInfiniteQuery({
    queryKey: $api.queryOptions("get", "/customer/job-templates", first).queryKey,
    queryFn: ({ pageParam, signal }) =>
      answer(fetchClient.GET("/customer/job-templates", { params: { query: { limit: PAGE, after: pageParam } }, signal })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_after ?? undefined,
  });
  const rows = templates.data?.pages.flatMap((p) => p.templates);

  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={2}>Job templates</Title>
        {canWrite(session) && <Button onClick={() => setCreating(true)}>Create template</Button>}
      </Group>
      <Text size="sm" c="dimmed" mb="md">
        Vetted job definitions (AWS IoT job templates): a document type, a document whose placeholders{" "}
        <code>{"${aws:iot:parameter:NAME}"}</code> each job fills, and default timeouts and rollout configs.
      </Text>
      <QueryState what="templates" data={rows} error={templates.error} onRetry={() => void templates.refetch()}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No templates yet.</Empty>
          ) : (
            <>
              <Table striped highlightOnHover aria-label="templates" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Template</Table.Th>
                    <Table.Th>Document type</Table.Th>
                    <Table.Th>Parameters</Table.Th>
                    <Table.Th>Description</Table.Th>
                    <Table.Th>Created</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {list.map((t) => (
                    <Table.Tr key={t.template_id} data-template={t.template_id}>
                      <Table.Td>
                        <Anchor component={Link} to={templateLink(t.template_id)} ff="monospace" size="sm">
                          {t.template_id}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>{t.document_type}</Table.Td>
                      <Table.Td ff="monospace">{t.parameters.join(", ") || "—"}</Table.Td>
                      <Table.Td>
                        <Text size="sm" lineClamp={2}>
                          {t.description || "—"}
                        </Text>
                      </Table.Td>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>
                        {formatTime(t.created_at)}
                        {t.created_by ? ` by ${t.created_by}` : ""}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <LoadMore
                hasMore={templates.hasNextPage}
                loading={templates.isFetchingNextPage}
                onLoad={() => void templates.fetchNextPage()}
                shown={list.length}
                what="templates"
              />
            </>
          )
        }
      </QueryState>
      <CreateTemplateModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(t) => {
          setCreating(false);
          navigate(templateLink(t.template_id));
        }}
      />
    </>
  );
}
