// The stacked bar of a job's execution counters.

import { Group, Progress, Text, Tooltip } from "@mantine/core";

import type { JobCounts } from "../../services/api/jobs";
import { jobProgress } from "./progress";

export function JobProgressBar({ counts, label, size = "lg" }: { counts: JobCounts; label: string; size?: string }) {
  const p = jobProgress(counts);
  return (
    <Group gap="xs" wrap="nowrap" miw={180}>
      <Progress.Root
        size={size}
        style={{ flex: 1 }}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={p.donePercent}
      >
        {p.segments.map((s) => (
          <Tooltip key={s.key} label={`${s.label}: ${s.count}`} withArrow>
            <Progress.Section value={s.percent} color={s.color} data-segment={s.key} aria-label={`${s.label}: ${s.count}`} />
          </Tooltip>
        ))}
      </Progress.Root>
      <Text size="xs" c="dimmed" w={84} ta="right">
        {p.done}/{p.total} done
      </Text>
    </Group>
  );
}
