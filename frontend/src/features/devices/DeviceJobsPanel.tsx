// A device's executions across all jobs, newest first, each with its history.

import { Anchor, Button, Card, Code, Table, Text, Title } from "@mantine/core";
import { keepPreviousData } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";

import { isLive } from "../../app/live/liveState";
import { $api } from "../../services/api/openapi";
import { isOpenExecution } from "../../services/api/statuses";
import { Empty, QueryState } from "../common/QueryState";
import { Pager } from "../common/Pager";
import { formatTime } from "../common/format";
import { ExecutionHistoryModal } from "../jobs/ExecutionHistory";
import { StatusBadge } from "../jobs/StatusBadge";

const PAGE = 20;

export function DeviceJobsPanel({ deviceId }: { deviceId: string }) {
  const [offset, setOffset] = useState(0);
  const [history, setHistory] = useState<{ jobId: string; deviceId: string } | null>(null);
  const jobs = $api.useQuery(
    "get",
    "/customer/devices/{device_id}/jobs",
    { params: { path: { device_id: deviceId }, query: { limit: PAGE, offset } } },
    {
      placeholderData: keepPreviousData,
      // while an execution is open, and the live stream is down (whenNotLive, with a condition of its own)
      refetchInterval: (q) => (!isLive() && q.state.data?.executions.some((x) => isOpenExecution(x.status)) ? 3000 : false),
    },
  );
  return (
    <Card withBorder>
      <Title order={4} mb="xs">
        Job executions
      </Title>
      <QueryState what="job executions" data={jobs.data} error={jobs.error} onRetry={() => void jobs.refetch()}>
        {(data) =>
          data.executions.length === 0 ? (
            <Empty>No jobs for this device.</Empty>
          ) : (
            <>
              <Table striped aria-label="device jobs" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Job</Table.Th>
                    <Table.Th>Type</Table.Th>
                    <Table.Th>Execution</Table.Th>
                    <Table.Th>Job status</Table.Th>
                    <Table.Th>Updated</Table.Th>
                    <Table.Th>Status details</Table.Th>
                    <Table.Th />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.executions.map((x) => (
                    <Table.Tr key={x.job_id} data-job-id={x.job_id}>
                      <Table.Td>
                        <Anchor component={Link} to={`/jobs/${encodeURIComponent(x.job_id)}`} ff="monospace" size="sm">
                          {x.job_id}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>{x.document_type}</Table.Td>
                      <Table.Td>
                        <StatusBadge status={x.status} />
                      </Table.Td>
                      <Table.Td>
                        <StatusBadge status={x.job_status} />
                      </Table.Td>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(x.last_updated_at)}</Table.Td>
                      <Table.Td>
                        {x.status_details ? <Code>{JSON.stringify(x.status_details)}</Code> : <Text c="dimmed">—</Text>}
                      </Table.Td>
                      <Table.Td>
                        <Button size="compact-xs" variant="subtle" onClick={() => setHistory({ jobId: x.job_id, deviceId })}>
                          History
                        </Button>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Pager total={data.total} limit={PAGE} offset={offset} onChange={setOffset} label="device jobs" />
            </>
          )
        }
      </QueryState>
      <ExecutionHistoryModal
        jobId={history?.jobId ?? ""}
        deviceId={history?.deviceId ?? null}
        onClose={() => setHistory(null)}
      />
    </Card>
  );
}
