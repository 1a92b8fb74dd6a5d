// The job page's executions by status over time: a stacked area chart (recharts) of the counts the API
// replays from the execution history. Only the job pages import this module (recharts stays in their chunk).

import { Card, Group, Text, Title } from "@mantine/core";
import { Area, AreaChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

import { $api } from "../../services/api/openapi";
import { isJobLive, statusCssColor } from "../../services/api/statuses";
import type { JobDetail } from "../../services/api/jobs";
import { QueryState } from "../common/QueryState";
import { whenNotLive } from "../../app/live/liveState";
import { bucketWords, drawnSegments, seriesRows, statusOf, type SeriesRow } from "./statusSeries";

const HEIGHT = 260;
/** The series reads the job's whole history (seconds on a job of a million executions): it polls slowly. */
const seriesPolling = whenNotLive(15_000);

function timeLabel(ms: number, bucketSeconds: number): string {
  const d = new Date(ms);
  return bucketSeconds >= 3600 ? d.toLocaleDateString(undefined, { month: "short", day: "numeric", hour: "2-digit" }) : d.toLocaleTimeString();
}

function Chart({ rows, bucketSeconds }: { rows: SeriesRow[]; bucketSeconds: number }) {
  const segments = drawnSegments(rows);
  const last = rows[rows.length - 1];
  const summary = segments
    .filter((s) => (last?.[s.key] ?? 0) > 0)
    .map((s) => `${last?.[s.key] ?? 0} ${s.label.toLowerCase()}`)
    .join(", ");
  return (
    <figure style={{ margin: 0 }} data-testid="status-chart" aria-label="executions by status over time">
      <ResponsiveContainer width="100%" height={HEIGHT} initialDimension={{ width: 640, height: HEIGHT }}>
        <AreaChart data={rows} margin={{ top: 8, right: 16, bottom: 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis
            dataKey="at"
            type="number"
            scale="time"
            domain={["dataMin", "dataMax"]}
            tickFormatter={(v: number) => timeLabel(v, bucketSeconds)}
            minTickGap={40}
          />
          <YAxis allowDecimals={false} width={56} />
          <Tooltip labelFormatter={(v) => timeLabel(Number(v), bucketSeconds)} />
          <Legend />
          {segments.map((s) => (
            <Area
              key={s.key}
              type="stepAfter"
              dataKey={s.key}
              name={s.label}
              stackId="executions"
              stroke={statusCssColor(statusOf(s.key))}
              fill={statusCssColor(statusOf(s.key))}
              fillOpacity={0.55}
              isAnimationActive={false}
              data-status={s.key}
            />
          ))}
        </AreaChart>
      </ResponsiveContainer>
      <figcaption>
        <Text size="xs" c="dimmed" data-testid="status-chart-summary">
          Now: {summary || "no executions"}.
        </Text>
      </figcaption>
    </figure>
  );
}

/** Polls with the job while it runs; a finished job's series no longer changes. */
export function JobStatusChart({ job }: { job: JobDetail }) {
  const live = isJobLive(job.status);
  const series = $api.useQuery(
    "get",
    "/customer/jobs/{job_id}/status-series",
    { params: { path: { job_id: job.job_id } } },
    { refetchInterval: live ? seriesPolling : false, staleTime: live ? 0 : Infinity },
  );
  return (
    <Card withBorder data-testid="status-series-card">
      <Group justify="space-between" mb="xs">
        <Title order={4}>Executions over time</Title>
        {series.data && (
          <Text size="xs" c="dimmed">
            by status, every {bucketWords(series.data.bucket_seconds)}
          </Text>
        )}
      </Group>
      <QueryState what="executions over time" data={series.data} error={series.error} onRetry={() => void series.refetch()}>
        {(data) => <Chart rows={seriesRows(data)} bucketSeconds={data.bucket_seconds} />}
      </QueryState>
    </Card>
  );
}
