// Why a job's executions failed: its FAILED, REJECTED and TIMED_OUT executions grouped by reason
// (status_details.reason, else the whole details), the most frequent first, each with a device to look at.

import { Anchor, Card, Code, Group, Table, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";

import type { JobDetail } from "../../services/api/jobs";
import { $api } from "../../services/api/openapi";
import { isJobLive } from "../../services/api/statuses";
import { Empty, QueryState } from "../common/QueryState";
import { StatusBadge } from "./StatusBadge";
import { livePolling } from "./jobQueries";

const TOP = 10;

export function FailureReasons({ job }: { job: JobDetail }) {
  const reasons = $api.useQuery(
    "get",
    "/customer/jobs/{job_id}/failure-reasons",
    { params: { path: { job_id: job.job_id }, query: { limit: TOP } } },
    { refetchInterval: isJobLive(job.status) ? livePolling : false },
  );
  return (
    <Card withBorder data-testid="failure-reasons">
      <Group justify="space-between" mb="xs">
        <Title order={4}>Failure reasons</Title>
        <Text size="xs" c="dimmed">
          failed, rejected and timed-out executions
        </Text>
      </Group>
      <QueryState what="failure reasons" data={reasons.data} error={reasons.error} onRetry={() => void reasons.refetch()}>
        {(data) =>
          data.reasons.length === 0 ? (
            <Empty>No failed execution.</Empty>
          ) : (
            <>
              <Table aria-label="failure reasons" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Reason</Table.Th>
                    <Table.Th ta="right">Executions</Table.Th>
                    <Table.Th>For example</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.reasons.map((r) => (
                    <Table.Tr key={`${r.status} ${r.reason ?? ""}`} data-reason={r.reason ?? ""}>
                      <Table.Td>
                        <StatusBadge status={r.status} />
                      </Table.Td>
                      <Table.Td>
                        {r.reason === null ? (
                          <Text size="sm" c="dimmed">
                            no details
                          </Text>
                        ) : (
                          <Code style={{ wordBreak: "break-word" }}>{r.reason}</Code>
                        )}
                      </Table.Td>
                      <Table.Td ta="right" data-testid="reason-count">
                        {r.count.toLocaleString("en")}
                      </Table.Td>
                      <Table.Td>
                        <Anchor component={Link} to={`/devices/${encodeURIComponent(r.sample_device_id)}`} ff="monospace" size="sm">
                          {r.sample_device_id}
                        </Anchor>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              {data.total > data.reasons.reduce((n, r) => n + r.count, 0) && (
                <Text size="xs" c="dimmed" mt="xs">
                  The {data.reasons.length} most frequent reasons of {data.total.toLocaleString("en")} failures.
                </Text>
              )}
            </>
          )
        }
      </QueryState>
    </Card>
  );
}
