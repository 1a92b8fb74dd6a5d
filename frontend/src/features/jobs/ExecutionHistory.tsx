// One execution's state transitions, oldest first.

import { Code, Modal, Text, Timeline } from "@mantine/core";

import { $api } from "../../services/api/openapi";
import { Empty, QueryState } from "../common/QueryState";
import { formatTime } from "../common/format";

export function ExecutionHistoryModal(props: { jobId: string; deviceId: string | null; onClose: () => void }) {
  const { jobId, deviceId, onClose } = props;
  return (
    <Modal opened={deviceId !== null} onClose={onClose} title={`History of ${deviceId ?? ""}`} size="lg">
      {deviceId && <ExecutionHistory jobId={jobId} deviceId={deviceId} />}
    </Modal>
  );
}

export function ExecutionHistory({ jobId, deviceId }: { jobId: string; deviceId: string }) {
  const events = $api.useQuery("get", "/customer/jobs/{job_id}/executions/{device_id}/events", {
    params: { path: { job_id: jobId, device_id: deviceId } },
  });
  return (
    <QueryState what="history" data={events.data} error={events.error} onRetry={() => void events.refetch()}>
      {(data) =>
        data.events.length === 0 ? (
          <Empty>Still QUEUED: no transitions yet.</Empty>
        ) : (
          <Timeline active={data.events.length - 1} bulletSize={14} lineWidth={2} aria-label={`history of ${deviceId}`}>
            {data.events.map((e) => (
              <Timeline.Item
                key={e.event_id}
                title={`${e.from_status} → ${e.to_status}`}
                data-testid="history-event"
              >
                <Text size="xs" c="dimmed">
                  by {e.actor} · {formatTime(e.at)} · attempt {e.execution_number}
                </Text>
                {e.status_details && <Code>{JSON.stringify(e.status_details)}</Code>}
              </Timeline.Item>
            ))}
          </Timeline>
        )
      }
    </QueryState>
  );
}
