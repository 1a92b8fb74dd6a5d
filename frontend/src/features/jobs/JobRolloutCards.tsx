// The job detail's safe-rollout cards: the rollout (reached / total, rate, reached over time), the abort
// state, the retries and the schedule with its maintenance windows.

import { Alert, Badge, Card, Group, List, Progress, SimpleGrid, Stack, Text, Title } from "@mantine/core";

import type { JobDetail } from "../../services/api/jobs";
import { Fact } from "../common/Fact";
import { formatTime } from "../common/format";
import { END_WORDS, abortWords, retryWords, rolloutWords, scheduleWords, utcText, type EndBehavior } from "./rolloutForm";
import { jobConfigs, stepChart } from "./rolloutView";

const CHART_W = 480;
const CHART_H = 120;

function ReachedChart({ job }: { job: JobDetail }) {
  const chart = stepChart(job.rollout.history, job.rollout.total, CHART_W, CHART_H);
  if (!chart) return <Text size="sm" c="dimmed">No device reached yet.</Text>;
  const last = job.rollout.history[job.rollout.history.length - 1];
  return (
    <figure style={{ margin: 0 }}>
      <svg
        role="img"
        aria-label="devices reached over time"
        viewBox={`-40 -8 ${CHART_W + 48} ${CHART_H + 28}`}
        width="100%"
        style={{ maxWidth: 560, display: "block" }}
        data-testid="rollout-chart"
      >
        <title>{`devices reached over time: ${last?.reached ?? 0} of ${job.rollout.total} at ${formatTime(last?.at)}`}</title>
        <line x1={0} y1={CHART_H} x2={CHART_W} y2={CHART_H} stroke="var(--mantine-color-gray-5)" />
        <line x1={0} y1={0} x2={0} y2={CHART_H} stroke="var(--mantine-color-gray-5)" />
        <line x1={0} y1={0} x2={CHART_W} y2={0} stroke="var(--mantine-color-gray-3)" strokeDasharray="4 4" />
        <text x={-6} y={4} fontSize={11} textAnchor="end" fill="currentColor">
          {chart.max}
        </text>
        <text x={-6} y={CHART_H} fontSize={11} textAnchor="end" fill="currentColor">
          0
        </text>
        <text x={0} y={CHART_H + 16} fontSize={11} fill="currentColor">
          {utcText(chart.from)}
        </text>
        <text x={CHART_W} y={CHART_H + 16} fontSize={11} textAnchor="end" fill="currentColor">
          {utcText(chart.to)}
        </text>
        <path d={chart.path} fill="none" stroke="var(--mantine-color-blue-6)" strokeWidth={2} data-testid="rollout-line" />
      </svg>
    </figure>
  );
}

function RolloutCard({ job }: { job: JobDetail }) {
  const { rollout } = job;
  const config = jobConfigs(job).rollout_config;
  const percent = rollout.total ? Math.round((rollout.reached / rollout.total) * 100) : 100;
  return (
    <Card withBorder data-testid="rollout-card">
      <Title order={4} mb="xs">
        Rollout
      </Title>
      <Stack gap="xs">
        <Text size="sm">{config ? `Plan: ${rolloutWords(config)}.` : "No rate: devices are reached as the schedule allows."}</Text>
        <Group gap="sm" wrap="nowrap">
          <Progress
            value={percent}
            size="lg"
            style={{ flex: 1 }}
            aria-label="devices reached"
            role="progressbar"
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
          />
          <Text size="sm" fw={500} data-testid="rollout-reached" style={{ whiteSpace: "nowrap" }}>
            {rollout.reached} / {rollout.total} reached
          </Text>
        </Group>
        <SimpleGrid cols={{ base: 2, md: 3 }}>
          <Fact label="Current rate">
            <span data-testid="rollout-rate">
              {rollout.rate_per_minute === null ? "unlimited" : `${rollout.rate_per_minute.toLocaleString("en")} a minute`}
            </span>
          </Fact>
          {rollout.window_opened_at && <Fact label="Current minute opened">{formatTime(rollout.window_opened_at)}</Fact>}
          {rollout.stopped_at && (
            <Fact label="Stopped">
              <span data-testid="rollout-stopped">{formatTime(rollout.stopped_at)}</span>
            </Fact>
          )}
        </SimpleGrid>
        <ReachedChart job={job} />
      </Stack>
    </Card>
  );
}

function AbortCard({ job }: { job: JobDetail }) {
  const config = jobConfigs(job).abort_config;
  const abort = job.abort;
  const criterion = abort?.criterion;
  const met =
    criterion && typeof criterion.failure_type === "string"
      ? abortWords({ criteria_list: [criterion as unknown as NonNullable<typeof config>["criteria_list"][number]] })
      : null;
  return (
    <Card withBorder data-testid="abort-card">
      <Title order={4} mb="xs">
        Abort
      </Title>
      <Stack gap="xs">
        {config && <Text size="sm">Criteria: {abortWords(config)}.</Text>}
        {abort?.aborted ? (
          <Alert color="red" variant="light" title="Aborted" data-testid="abort-state">
            <Text size="sm">
              {abort.at ? `${formatTime(abort.at)}: ` : ""}
              {abort.failures ?? "?"} failures of {abort.executed ?? "?"} executed
              {criterion?.failure_type ? ` (${String(criterion.failure_type)})` : ""}
              {met ? `, met the criterion: ${met}.` : "."}
            </Text>
            {job.cancel_reason && (
              <Text size="sm" mt={4} data-testid="abort-reason">
                {job.cancel_reason}
                {job.cancel_reason_code ? ` [${job.cancel_reason_code}]` : ""}
              </Text>
            )}
          </Alert>
        ) : (
          <Text size="sm" data-testid="abort-state">
            Not aborted.
          </Text>
        )}
      </Stack>
    </Card>
  );
}

function RetryCard({ job }: { job: JobDetail }) {
  const config = jobConfigs(job).retry_config;
  if (!config) return null;
  return (
    <Card withBorder data-testid="retry-card">
      <Title order={4} mb="xs">
        Retries
      </Title>
      <Text size="sm">{retryWords(config).replace(/^./, (c) => c.toUpperCase())}.</Text>
      <List size="sm" mt="xs">
        {config.criteria_list.map((c) => (
          <List.Item key={c.failure_type}>
            {c.failure_type}: {c.number_of_retries} {c.number_of_retries === 1 ? "retry" : "retries"}
          </List.Item>
        ))}
      </List>
      <Text size="xs" c="dimmed" mt="xs">
        Each execution&apos;s retry attempt is in the executions table.
      </Text>
    </Card>
  );
}

function ScheduleCard({ job }: { job: JobDetail }) {
  const schedule = job.schedule;
  if (!schedule) return null;
  const config = jobConfigs(job).scheduling_config;
  const behavior = schedule.end_behavior as EndBehavior | null;
  return (
    <Card withBorder data-testid="schedule-card">
      <Title order={4} mb="xs">
        Schedule
      </Title>
      <Stack gap="xs">
        {config && <Text size="sm">{scheduleWords(config).replace(/^./, (c) => c.toUpperCase()) || "No start or end."}</Text>}
        <SimpleGrid cols={{ base: 2, md: 3 }}>
          <Fact label="Start">{schedule.start_time ? formatTime(schedule.start_time) : "at once"}</Fact>
          <Fact label="End">{schedule.end_time ? formatTime(schedule.end_time) : "none"}</Fact>
          <Fact label="End behavior">
            {behavior ? (
              <>
                {behavior} <Text span c="dimmed" size="xs">({END_WORDS[behavior] ?? behavior})</Text>
              </>
            ) : (
              "—"
            )}
          </Fact>
          {schedule.end_applied_at && <Fact label="End applied">{formatTime(schedule.end_applied_at)}</Fact>}
          <Fact label="In a maintenance window now">
            <span data-testid="in-window">
              {schedule.in_window === null ? (
                "no windows"
              ) : schedule.in_window ? (
                <Badge color="teal" variant="light">yes</Badge>
              ) : (
                <Badge color="gray" variant="light">no</Badge>
              )}
            </span>
          </Fact>
          {schedule.next_window && (
            <Fact label={schedule.in_window ? "Current window" : "Next window"}>
              <span data-testid="next-window">
                {formatTime(schedule.next_window.start)} – {formatTime(schedule.next_window.end)}
              </span>
            </Fact>
          )}
        </SimpleGrid>
        {config && config.maintenance_windows.length > 0 && (
          <List size="sm" aria-label="maintenance windows">
            {config.maintenance_windows.map((w, i) => (
              <List.Item key={i}>
                <code>{w.start_time}</code> (UTC) for {w.duration_in_minutes} min
              </List.Item>
            ))}
          </List>
        )}
      </Stack>
    </Card>
  );
}

/** Only the cards of what the job was given (a job without configs shows none). */
export function JobRolloutCards({ job }: { job: JobDetail }) {
  const gated = !!job.rollout_config || !!job.scheduling_config;
  return (
    <>
      {gated && <RolloutCard job={job} />}
      {(job.abort_config || job.abort) && <AbortCard job={job} />}
      <RetryCard job={job} />
      <ScheduleCard job={job} />
    </>
  );
}
