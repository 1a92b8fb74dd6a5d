// A job's executions: status filter, paging for large jobs, status_details, and each one's history.

import { Anchor, Button, Code, Group, Select, Table, Text } from "@mantine/core";
import { keepPreviousData, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link } from "react-router-dom";

import { isLive } from "../../app/live/liveState";
import { listExecutions, type ExecutionStatus } from "../../services/api/jobs";
import { queryKeys } from "../../services/api/queryKeys";
import { EXECUTION_STATUSES, isOpenExecution, statusFrom } from "../../services/api/statuses";
import { Empty, QueryState } from "../common/QueryState";
import { Pager } from "../common/Pager";
import { formatTime } from "../common/format";
import { CancelExecutionButton } from "./CancelExecutionButton";
import { DeleteExecutionButton } from "./DeleteExecutionButton";
import { ExecutionHistoryModal } from "./ExecutionHistory";
import { StatusBadge } from "./StatusBadge";

const PAGE = 50;

/** `version` changes whenever the job's counters or status do: the table then refetches at once. */
export function ExecutionsTable({
  jobId,
  live,
  version,
  canCancel = false,
  canDelete = false,
}: {
  jobId: string;
  live: number | false;
  version: string;
  /** offer to cancel each open execution (AWS CancelJobExecution) */
  canCancel?: boolean;
  /** offer to delete each execution (AWS DeleteJobExecution) */
  canDelete?: boolean;
}) {
  const queryClient = useQueryClient();
  const seen = useRef(version);
  useEffect(() => {
    if (seen.current === version) return;
    seen.current = version;
    void queryClient.invalidateQueries({ queryKey: queryKeys.jobs.executions(jobId) });
  }, [jobId, version, queryClient]);
  const [status, setStatus] = useState<ExecutionStatus | null>(null);
  const [offset, setOffset] = useState(0);
  const [history, setHistory] = useState<string | null>(null);
  const pageParams = { status: status ?? undefined, limit: PAGE, offset };
  const executions = useQuery({
    queryKey: queryKeys.jobs.executionPage(jobId, pageParams),
    queryFn: ({ signal }) => listExecutions(jobId, pageParams, signal),
    placeholderData: keepPreviousData,
    refetchInterval: () => (isLive() ? false : live),
  });
  return (
    <>
      <Group mb="sm" align="flex-end">
        <Select
          label="Execution status"
          placeholder="any"
          clearable
          data={[...EXECUTION_STATUSES]}
          value={status}
          onChange={(v) => {
            setStatus(statusFrom(EXECUTION_STATUSES, v) ?? null);
            setOffset(0);
          }}
          w={200}
        />
      </Group>
      <QueryState what="executions" data={executions.data} error={executions.error} onRetry={() => void executions.refetch()}>
        {(data) =>
          data.executions.length === 0 ? (
            <Empty>{status ? `No ${status} executions.` : "No executions."}</Empty>
          ) : (
            <>
              <Table striped aria-label="executions" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Device</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>#</Table.Th>
                    <Table.Th title="times retry_config queued it again">Retry</Table.Th>
                    <Table.Th>Queued</Table.Th>
                    <Table.Th>Updated</Table.Th>
                    <Table.Th>Status details</Table.Th>
                    <Table.Th />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.executions.map((x) => (
                    <Table.Tr key={x.device_id} data-device-id={x.device_id}>
                      <Table.Td>
                        <Anchor component={Link} to={`/devices/${encodeURIComponent(x.device_id)}`} ff="monospace" size="sm">
                          {x.device_id}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <StatusBadge status={x.status} />
                      </Table.Td>
                      <Table.Td>{x.execution_number}</Table.Td>
                      <Table.Td data-testid="retry-attempt">{x.retry_attempt}</Table.Td>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(x.queued_at)}</Table.Td>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(x.last_updated_at)}</Table.Td>
                      <Table.Td>
                        {x.status_details ? (
                          <Code style={{ wordBreak: "break-word" }}>{JSON.stringify(x.status_details)}</Code>
                        ) : (
                          <Text c="dimmed">—</Text>
                        )}
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4} wrap="nowrap">
                          <Button size="compact-xs" variant="subtle" onClick={() => setHistory(x.device_id)}>
                            History
                          </Button>
                          {canCancel && isOpenExecution(x.status) && <CancelExecutionButton jobId={jobId} execution={x} />}
                          {canDelete && <DeleteExecutionButton jobId={jobId} execution={x} />}
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Pager total={data.total} limit={PAGE} offset={offset} onChange={setOffset} label="executions" />
            </>
          )
        }
      </QueryState>
      <ExecutionHistoryModal jobId={jobId} deviceId={history} onClose={() => setHistory(null)} />
    </>
  );
}
