// The console's home page: the fleet online and offline, jobs by status, the active jobs' progress, and the
// last hour's failures by job and by reason (GET /customer/dashboard). Polls while the live stream is down.

import { Anchor, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";

import { whenNotLive } from "../../app/live/liveState";
import { $api } from "../../services/api/openapi";
import { Empty, QueryState } from "../common/QueryState";
import { formatTime } from "../common/format";
import { JobProgressBar } from "../jobs/JobProgressBar";
import { StatusBadge } from "../jobs/StatusBadge";
import { CountBars, DevicesDonut } from "./DashboardCharts";
import { deviceSlices, jobBars, percent, reasonLabel, type Dashboard } from "./dashboardView";

// The device figures cost one pass over the fleet's rows (about 0.7 s at 1M devices): poll gently.
export const DASHBOARD_POLL_MS = 30_000;

const jobLink = (jobId: string) => `/jobs/${encodeURIComponent(jobId)}`;

function Stat({ label, value, hint, testId }: { label: string; value: number; hint?: string; testId: string }) {
  return (
    <Paper withBorder p="md" radius="md">
      <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
        {label}
      </Text>
      <Text fz={28} fw={700} data-testid={testId}>
        {value.toLocaleString()}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Paper>
  );
}

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Paper withBorder p="md" radius="md" component="section" aria-label={title}>
      <Title order={4} mb="sm">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

function ActiveJobs({ jobs }: { jobs: Dashboard["jobs"] }) {
  if (jobs.active.length === 0) return <Empty>No job is running.</Empty>;
  return (
    <>
      <Table aria-label="active jobs" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Job</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Progress</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {jobs.active.map((j) => (
            <Table.Tr key={j.job_id} data-job-id={j.job_id}>
              <Table.Td>
                <Anchor component={Link} to={jobLink(j.job_id)} ff="monospace" size="sm">
                  {j.job_id}
                </Anchor>
                <Text size="xs" c="dimmed">
                  {formatTime(j.created_at)}
                </Text>
              </Table.Td>
              <Table.Td>{j.document_type}</Table.Td>
              <Table.Td>
                <StatusBadge status={j.status} />
              </Table.Td>
              <Table.Td miw={240}>
                <JobProgressBar counts={j.counts} label={`progress of ${j.job_id}`} size="md" />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {jobs.active_total > jobs.active.length && (
        <Text size="xs" c="dimmed" mt="xs">
          The newest {jobs.active.length} of {jobs.active_total} active jobs;{" "}
          <Anchor component={Link} to="/jobs?status=IN_PROGRESS" size="xs">
            all of them
          </Anchor>
        </Text>
      )}
    </>
  );
}

function Failures({ failures }: { failures: Dashboard["failures"] }) {
  if (failures.total === 0) return <Empty>No execution failed, timed out or was rejected in the last hour.</Empty>;
  const byReason = failures.by_reason.map((r) => ({ reason: reasonLabel(r), failures: r.failures }));
  return (
    <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
      <Stack gap="xs">
        <Text fw={600} size="sm">
          By job
        </Text>
        <CountBars data={failures.by_job} x="job_id" y="failures" label="failures by job" color="var(--mantine-color-red-6)" />
        <Table aria-label="failures by job" verticalSpacing={4}>
          <Table.Tbody>
            {failures.by_job.map((row) => (
              <Table.Tr key={row.job_id}>
                <Table.Td>
                  <Anchor component={Link} to={jobLink(row.job_id)} ff="monospace" size="sm">
                    {row.job_id}
                  </Anchor>
                </Table.Td>
                <Table.Td ta="right">{row.failures}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Stack>
      <Stack gap="xs">
        <Text fw={600} size="sm">
          By reason
        </Text>
        <CountBars data={byReason} x="reason" y="failures" label="failures by reason" color="var(--mantine-color-orange-6)" />
        <Table aria-label="failures by reason" verticalSpacing={4}>
          <Table.Tbody>
            {byReason.map((row) => (
              <Table.Tr key={row.reason}>
                <Table.Td>{row.reason}</Table.Td>
                <Table.Td ta="right">{row.failures}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Stack>
    </SimpleGrid>
  );
}

export function DashboardPage() {
  const dashboard = $api.useQuery("get", "/customer/dashboard", {}, { refetchInterval: whenNotLive(DASHBOARD_POLL_MS) });
  return (
    <Stack gap="md">
      <Group justify="space-between">
        <Title order={2}>Dashboard</Title>
        {dashboard.data && (
          <Text size="xs" c="dimmed">
            as of {formatTime(dashboard.data.at)}
          </Text>
        )}
      </Group>
      <QueryState what="dashboard" data={dashboard.data} error={dashboard.error} onRetry={() => void dashboard.refetch()}>
        {(d) => {
          const window = Math.round(d.devices.online_window_seconds / 60);
          return (
            <>
              <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }}>
                <Stat label="Devices" value={d.devices.total} testId="stat-devices" hint={`${d.devices.revoked} revoked`} />
                <Stat
                  label="Online"
                  value={d.devices.online}
                  testId="stat-online"
                  hint={`${percent(d.devices.online, d.devices.active)}% of active, seen in ${window} min`}
                />
                <Stat label="Offline" value={d.devices.offline} testId="stat-offline" hint="active, not seen lately" />
                <Stat label="Active jobs" value={d.jobs.active_total} testId="stat-active-jobs" hint="in progress or scheduled" />
                <Stat label="Completed jobs" value={d.jobs.by_status.COMPLETED ?? 0} testId="stat-completed-jobs" />
                <Stat label="Failures, last hour" value={d.failures.total} testId="stat-failures" hint="failed, timed out, rejected" />
              </SimpleGrid>
              <SimpleGrid cols={{ base: 1, md: 2 }}>
                <Section title="Devices">
                  <DevicesDonut slices={deviceSlices(d.devices)} />
                </Section>
                <Section title="Jobs by status">
                  <CountBars data={jobBars(d.jobs.by_status)} x="label" y="jobs" label="jobs by status" color="var(--mantine-color-blue-6)" />
                </Section>
              </SimpleGrid>
              <Section title="Active jobs">
                <ActiveJobs jobs={d.jobs} />
              </Section>
              <Section title="Failures in the last hour">
                <Failures failures={d.failures} />
              </Section>
            </>
          );
        }}
      </QueryState>
    </Stack>
  );
}
