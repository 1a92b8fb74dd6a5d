// One job: document, target, counters with the stacked bar, executions, cancellation and deletion.

import { Anchor, Card, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";

import { isLive } from "../../app/live/liveState";
import { useSession } from "../../app/SessionContext";
import { getJob, type JobDetail } from "../../services/api/jobs";
import { queryKeys } from "../../services/api/queryKeys";
import { canWrite } from "../../services/api/session";
import { isJobLive } from "../../services/api/statuses";
import { Fact } from "../common/Fact";
import { JsonBlock } from "../common/JsonBlock";
import { QueryState } from "../common/QueryState";
import { formatTime } from "../common/format";
import { CancelJobButton } from "./CancelJobButton";
import { DeleteJobButton } from "./DeleteJobButton";
import { ForceCancelJobButton } from "./ForceCancelJobButton";
import { ExecutionsTable } from "./ExecutionsTable";
import { JobProgressBar } from "./JobProgressBar";
import { JobRolloutCards } from "./JobRolloutCards";
import { LIVE_REFRESH_MS, targetLabel } from "./JobsPage";
import { SEGMENTS } from "./progress";
import { StatusBadge } from "./StatusBadge";
import { ContinuousBadge } from "./TargetSelection";
import { JobArtifacts } from "../artifacts/JobArtifacts";

function Target({ job }: { job: JobDetail }) {
  const { type, id } = job.target;
  if (type === "device" && id) return <Anchor component={Link} to={`/devices/${encodeURIComponent(id)}`}>device {id}</Anchor>;
  if (type === "group" && id) return <Anchor component={Link} to={`/groups/${encodeURIComponent(id)}`}>group {id}</Anchor>;
  return <>{targetLabel(job)}</>;
}

export function JobDetailPage() {
  const { jobId = "" } = useParams();
  const session = useSession();
  const job = useQuery({
    queryKey: queryKeys.jobs.detail(jobId),
    queryFn: ({ signal }) => getJob(jobId, signal),
    refetchInterval: (q) => (!isLive() && q.state.data && isJobLive(q.state.data.status) ? LIVE_REFRESH_MS : false),
  });
  const live = job.data && isJobLive(job.data.status) ? LIVE_REFRESH_MS : false;

  return (
    <Stack gap="md">
      <Anchor component={Link} to="/jobs" size="sm">
        ← Jobs
      </Anchor>
      <QueryState what="job" data={job.data} error={job.error} onRetry={() => void job.refetch()}>
        {(j) => (
          <>
            <Group justify="space-between">
              <Title order={2} data-testid="job-title">
                Job <span style={{ fontFamily: "monospace" }}>{j.job_id}</span> <StatusBadge status={j.status} />
              </Title>
              {canWrite(session) && (
                <Group gap="xs">
                  {isJobLive(j.status) && (
                    <>
                      <ForceCancelJobButton jobId={j.job_id} counts={j.counts} />
                      <CancelJobButton jobId={j.job_id} counts={j.counts} />
                    </>
                  )}
                  <DeleteJobButton jobId={j.job_id} status={j.status} counts={j.counts} />
                </Group>
              )}
            </Group>
            <Card withBorder>
              <SimpleGrid cols={{ base: 2, md: 4 }} spacing="md">
                <Fact label="Document type">{j.document_type}</Fact>
                <Fact label="Target">
                  <Target job={j} />
                  <ContinuousBadge job={j} />
                </Fact>
                <JobArtifacts names={j.artifacts} />
                <Fact label="Executions">
                  <span data-testid="execution-count">{j.execution_count}</span>
                </Fact>
                <Fact label="Created">
                  {formatTime(j.created_at)}
                  {j.created_by ? ` by ${j.created_by}` : ""}
                </Fact>
                <Fact label="Expires">{j.expires_at ? formatTime(j.expires_at) : "never"}</Fact>
                <Fact label="In-progress timeout">
                  {j.in_progress_timeout_minutes ? `${j.in_progress_timeout_minutes} min after a claim` : "none"}
                </Fact>
                {j.status === "SCHEDULED" && j.schedule?.start_time && (
                  <Fact label="Starts">
                    <span data-testid="job-starts">{formatTime(j.schedule.start_time)}</span>
                  </Fact>
                )}
                {j.completed_at && <Fact label="Completed">{formatTime(j.completed_at)}</Fact>}
                {j.canceled_at && (
                  <Fact label="Canceled">
                    {formatTime(j.canceled_at)}
                    {j.cancel_reason ? <span data-testid="cancel-reason"> — {j.cancel_reason}</span> : null}
                  </Fact>
                )}
              </SimpleGrid>
            </Card>
            <Card withBorder>
              <Title order={4} mb="xs">
                Progress
              </Title>
              <JobProgressBar counts={j.counts} label="job progress" />
              <Group gap="lg" mt="sm" aria-label="execution counts">
                {SEGMENTS.map((s) => (
                  <Text key={s.key} size="sm" data-count={s.key}>
                    <b>{j.counts[s.key]}</b> {s.label}
                  </Text>
                ))}
              </Group>
            </Card>
            <JobRolloutCards job={j} />
            <Card withBorder>
              <Title order={4} mb="xs">
                Parameters
              </Title>
              <JsonBlock value={j.document_params} label="document parameters" />
            </Card>
            <Card withBorder>
              <Title order={4} mb="xs">
                Executions
              </Title>
              <ExecutionsTable
                jobId={j.job_id}
                live={live}
                version={`${j.status} ${JSON.stringify(j.counts)}`}
                canCancel={canWrite(session)}
                canDelete={canWrite(session)}
              />
            </Card>
          </>
        )}
      </QueryState>
    </Stack>
  );
}
