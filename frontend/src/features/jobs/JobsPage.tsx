// The fleet jobs list: status / type filters, stacked progress, paging, live refresh, Create Job.

import { Anchor, Button, Group, Select, Table, Text, TextInput, Title } from "@mantine/core";
import { keepPreviousData } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { Empty, QueryState } from "../common/QueryState";
import { Pager } from "../common/Pager";
import { formatTime } from "../common/format";
import { useListParams } from "../common/useListParams";
import type { Job, JobList } from "../../services/api/jobs";
import { $api } from "../../services/api/openapi";
import { canWrite } from "../../services/api/session";
import { JOB_STATUSES, isJobLive, statusFrom } from "../../services/api/statuses";
import { CreateJobModal } from "./CreateJobModal";
import { JobProgressBar } from "./JobProgressBar";
import { StatusBadge } from "./StatusBadge";
import { ContinuousBadge } from "./TargetSelection";
import { livePolling, useLiveStream } from "./jobQueries";

const PAGE = 25;

export function targetLabel(job: Pick<Job, "target">) {
  if (job.target.type === "devices") return "selected devices";
  return job.target.type === "all" ? "whole fleet" : `${job.target.type} ${job.target.id}`;
}

/** Under the status: when a SCHEDULED job starts, how far a live rollout has reached. */
function RolloutNote({ job }: { job: Job }) {
  let text: string | null = null;
  if (job.status === "SCHEDULED" && job.schedule?.start_time) text = `starts ${formatTime(job.schedule.start_time)}`;
  else if (job.status === "IN_PROGRESS" && (job.rollout_config || job.scheduling_config) && job.rollout.reached < job.rollout.total) {
    text = `${job.rollout.reached} / ${job.rollout.total} reached`;
  }
  return text ? (
    <Text size="xs" c="dimmed" data-testid="rollout-note">
      {text}
    </Text>
  ) : null;
}

/** Poll (while the live stream is down) as long as something on screen can still change. */
export const whileInProgress = (data: JobList | undefined) => (data?.jobs.some((j) => isJobLive(j.status)) ? livePolling() : false);

export function JobsPage() {
  const session = useSession();
  const navigate = useNavigate();
  const { params, text: typeText, setText: setTypeText, search: documentType, offset, update } = useListParams("type");
  const status = statusFrom(JOB_STATUSES, params.get("status"));
  const [creating, setCreating] = useState(false);

  const listParams = { status, document_type: documentType || undefined, limit: PAGE, offset };
  useLiveStream();
  const jobs = $api.useQuery(
    "get",
    "/customer/jobs",
    { params: { query: listParams } },
    { placeholderData: keepPreviousData, refetchInterval: (q) => whileInProgress(q.state.data) },
  );

  return (
    <>
      <Group justify="space-between" mb="md">
        <Title order={2}>Jobs</Title>
        {canWrite(session) && <Button onClick={() => setCreating(true)}>Create job</Button>}
      </Group>
      <Group mb="sm" align="flex-end">
        <Select
          label="Status"
          placeholder="any"
          clearable
          data={[...JOB_STATUSES]}
          value={status ?? null}
          onChange={(v) => update("status", v)}
          w={180}
        />
        <TextInput
          label="Document type"
          placeholder="any"
          value={typeText}
          onChange={(e) => setTypeText(e.currentTarget.value)}
          w={220}
        />
        {jobs.isFetching && (
          <Text size="xs" c="dimmed">
            refreshing…
          </Text>
        )}
      </Group>
      <QueryState what="jobs" data={jobs.data} error={jobs.error} onRetry={() => void jobs.refetch()}>
        {(data) =>
          data.jobs.length === 0 ? (
            <Empty>{status || documentType ? "No job matches these filters." : "No jobs yet."}</Empty>
          ) : (
            <>
              <Table striped highlightOnHover aria-label="jobs" verticalSpacing="xs">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Job</Table.Th>
                    <Table.Th>Type</Table.Th>
                    <Table.Th>Target</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Progress</Table.Th>
                    <Table.Th>Created</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.jobs.map((j) => (
                    <Table.Tr key={j.job_id} data-job-id={j.job_id}>
                      <Table.Td>
                        <Anchor component={Link} to={`/jobs/${encodeURIComponent(j.job_id)}`} ff="monospace" size="sm">
                          {j.job_id}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>{j.document_type}</Table.Td>
                      <Table.Td>
                        {targetLabel(j)}
                        <ContinuousBadge job={j} />
                      </Table.Td>
                      <Table.Td>
                        <StatusBadge status={j.status} />
                        <RolloutNote job={j} />
                      </Table.Td>
                      <Table.Td>
                        <JobProgressBar counts={j.counts} label={`progress of ${j.job_id}`} size="md" />
                      </Table.Td>
                      <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(j.created_at)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
              <Pager total={data.total} limit={PAGE} offset={offset} onChange={(o) => update("offset", String(o))} label="jobs" />
            </>
          )
        }
      </QueryState>
      <CreateJobModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(job) => {
          setCreating(false);
          navigate(`/jobs/${encodeURIComponent(job.job_id)}`);
        }}
      />
    </>
  );
}
