// One artifact: its facts, the jobs that reference it (active ones block a delete), and delete.

import { Anchor, Badge, Card, Code, Group, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { Link, useNavigate, useParams } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { artifactPlaceholder, type ArtifactDetail } from "../../services/api/artifacts";
import { $api } from "../../services/api/openapi";
import { canWrite } from "../../services/api/session";
import { Fact } from "../common/Fact";
import { Empty, QueryState } from "../common/QueryState";
import { formatBytes, formatTime } from "../common/format";
import { StatusBadge } from "../jobs/StatusBadge";
import { DeleteArtifactButton } from "./DeleteArtifactButton";
import { Sha256 } from "./Sha256";

function JobsUsing({ artifact }: { artifact: ArtifactDetail }) {
  if (artifact.jobs.length === 0) return <Empty>No job references this artifact.</Empty>;
  return (
    <Table aria-label="jobs using the artifact" verticalSpacing="xs">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Job</Table.Th>
          <Table.Th>Status</Table.Th>
          <Table.Th>Active</Table.Th>
          <Table.Th>Created</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {artifact.jobs.map((j) => (
          <Table.Tr key={j.job_id} data-job-id={j.job_id}>
            <Table.Td>
              <Anchor component={Link} to={`/jobs/${encodeURIComponent(j.job_id)}`} ff="monospace" size="sm">
                {j.job_id}
              </Anchor>
            </Table.Td>
            <Table.Td>
              <StatusBadge status={j.status} />
            </Table.Td>
            <Table.Td>
              {j.active ? (
                <Badge color="orange" variant="light" title="the job runs or has active executions: blocks a delete">
                  active
                </Badge>
              ) : (
                <Text size="sm" c="dimmed">
                  no
                </Text>
              )}
            </Table.Td>
            <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(j.created_at)}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

export function ArtifactDetailPage() {
  const { name = "" } = useParams();
  const session = useSession();
  const navigate = useNavigate();
  const artifact = $api.useQuery("get", "/customer/artifacts/{name}", { params: { path: { name } } });

  return (
    <Stack gap="md">
      <Anchor component={Link} to="/artifacts" size="sm">
        ← Artifacts
      </Anchor>
      <QueryState what="artifact" data={artifact.data} error={artifact.error} onRetry={() => void artifact.refetch()}>
        {(a) => (
          <>
            <Group justify="space-between">
              <Title order={2}>
                Artifact <span style={{ fontFamily: "monospace" }}>{a.name}</span>
              </Title>
              {canWrite(session) && <DeleteArtifactButton name={a.name} onDeleted={() => navigate("/artifacts")} />}
            </Group>
            <Card withBorder>
              <SimpleGrid cols={{ base: 2, md: 4 }} spacing="md">
                <Fact label="Size">
                  {formatBytes(a.size)} ({a.size.toLocaleString()} bytes)
                </Fact>
                <Fact label="SHA-256">
                  <Sha256 value={a.sha256} />
                </Fact>
                <Fact label="Content type">{a.content_type}</Fact>
                <Fact label="Created">
                  {formatTime(a.created_at)}
                  {a.created_by ? ` by ${a.created_by}` : ""}
                </Fact>
              </SimpleGrid>
              <Text size="sm" mt="md">
                In a job document: <Code>{artifactPlaceholder(a.name)}</Code>
              </Text>
            </Card>
            <Card withBorder>
              <Title order={4} mb="xs">
                Jobs using it
              </Title>
              <JobsUsing artifact={a} />
            </Card>
          </>
        )}
      </QueryState>
    </Stack>
  );
}
