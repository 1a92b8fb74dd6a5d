// Snapshot or continuous targeting (AWS IoT Jobs' targetSelection) for a group or fleet job, and the tag
// that marks a continuous job in the lists.

import { Badge, SegmentedControl, Text } from "@mantine/core";

import type { Job } from "../../services/api/jobs";
import type { TargetSelection } from "./jobForm";

const EXPLAIN: Record<TargetSelection, string> = {
  SNAPSHOT: "Only the devices in the target now; devices that join the group later get nothing.",
  CONTINUOUS: "Devices that join the group later get the job too; it runs until canceled.",
};

export function TargetSelectionControl({
  value,
  onChange,
}: {
  value: TargetSelection;
  onChange: (value: TargetSelection) => void;
}) {
  return (
    <div>
      <Text size="sm" fw={500} mb={4} id="target-selection-label">
        Target selection
      </Text>
      <SegmentedControl
        fullWidth
        aria-labelledby="target-selection-label"
        value={value}
        onChange={(v) => onChange(v as TargetSelection)}
        data={[
          { value: "SNAPSHOT", label: "Snapshot" },
          { value: "CONTINUOUS", label: "Continuous" },
        ]}
      />
      <Text size="xs" c="dimmed" mt={4} data-testid="target-selection-help">
        {EXPLAIN[value]}
      </Text>
    </div>
  );
}

/** A "Continuous" tag for a continuous job; nothing for a snapshot one. */
export function ContinuousBadge({ job }: { job: Pick<Job, "target_selection"> }) {
  if (job.target_selection !== "CONTINUOUS") return null;
  return (
    <Badge
      size="sm"
      variant="outline"
      color="indigo"
      ml={6}
      data-testid="continuous-badge"
      title="devices that join the target later get the job too; it runs until canceled"
    >
      Continuous
    </Badge>
  );
}
