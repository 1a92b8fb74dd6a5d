// The tenant's artifacts (OTA files): upload with progress, the list (newest first), each to its page.

import { Anchor, Group, Table, Text, Title } from "@mantine/core";
import { keepPreviousData } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { $api } from "../../services/api/openapi";
import { canWrite } from "../../services/api/session";
import { Empty, QueryState } from "../common/QueryState";
import { Pager } from "../common/Pager";
import { formatBytes, formatTime } from "../common/format";
import { Sha256 } from "./Sha256";
import { UploadArtifact } from "./UploadArtifact";

const PAGE = 25;

export const artifactLink = (name: string) => `/artifacts/${encodeURIComponent(name)}`;

export function ArtifactsPage() {
  const session = useSession();
  const [params, setParams] = useSearchParams();
  const offset = Math.max(0, Number(params.get("offset")) || 0);
  const artifacts = $api.useQuery(
    "get",
    "/customer/artifacts",
    { params: { query: { limit: PAGE, offset } } },
    { placeholderData: keepPreviousData },
  );

  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={2}>Artifacts</Title>
        {artifacts.isFetching && (
          <Text size="xs" c="dimmed">
            refreshing…
          </Text>
        )}
      </Group>
      <Text size="sm" c="dimmed" mb="md">
        Files (firmware images, packages) that job documents reference as <code>{"${iotcloud:artifact-url:NAME}"}</code>:
        each device gets a signed, expiring download URL with the file's SHA-256 and size.
      </Text>
      {canWrite(session) && <UploadArtifact />}
      <QueryState what="artifacts" data={artifacts.data} error={artifacts.error} onRetry={() => void artifacts.refetch()}>
        {(data) =>
          data.artifacts.length === 0 ? (
            <Empty>No artifacts yet.</Empty>
          ) : (
            <>
              <Table striped highlightOnHover aria-label="artifacts" verticalSpacing="xs" mt="md">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Size</Table.Th>
                    <Table.Th>SHA-256</Table.Th>
                    <Table.Th>Content type</Table.Th>
                    <Table.Th>Created</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.artifacts.map((a) => (
                    <Table.Tr key={a.name} data-artifact={a.name}>
                      <Table.Td>
                        <Anchor component={Link} to={artifactLink(a.name)} ff="monospace" size="sm">
                          {a.name}
                        </Anchor>
                      </Table.Td>
                      <Table.Td title={`${a.size} bytes`} style={{ whiteSpace: "nowrap" }}>
                        {formatBytes(a.size)}
                      </Table.Td>
                      <Table.Td>
                        <Sha256 value={a.sha256} />
                      </Table.Td>
                      <Table.Td>{a.content_type}</Table.Td>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>
                        {formatTime(a.created_at)}
                        {a.created_by ? ` by ${a.created_by}` : ""}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Pager
                total={data.total}
                limit={PAGE}
                offset={offset}
                onChange={(o) => setParams(o ? { offset: String(o) } : {})}
                label="artifacts"
              />
            </>
          )
        }
      </QueryState>
    </>
  );
}
