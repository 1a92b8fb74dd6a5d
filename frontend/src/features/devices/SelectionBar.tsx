// The action bar of the devices list's selection: how many are selected, "select all N matching", and what to
// do with them: add them to a group, or create a job for them.

import { Button, Group, Paper, Text } from "@mantine/core";
import { useState } from "react";
import { useNavigate } from "react-router-dom";

import { CreateJobModal } from "../jobs/CreateJobModal";
import { AddToGroupModal } from "./AddToGroupModal";
import {
  NOTHING,
  allMatching,
  describeSelection,
  pageState,
  selectedCount,
  selectionBody,
  type DeviceFilter,
  type Selection,
} from "./selection";

export interface SelectionBarProps {
  selection: Selection;
  onChange: (selection: Selection) => void;
  filter: DeviceFilter;
  total: number; // devices matching the filter
  pageIds: readonly string[];
}

export function SelectionBar({ selection, onChange, filter, total, pageIds }: SelectionBarProps) {
  const navigate = useNavigate();
  const [action, setAction] = useState<"group" | "job" | null>(null);
  const count = selectedCount(selection);
  if (count === 0 && action === null) return null;
  const offerAll = selection.kind === "ids" && pageState(selection, pageIds) === "all" && total > count;
  const described = describeSelection(selection);

  return (
    <Paper withBorder p="xs" mb="sm" role="region" aria-label="selection" bg="var(--mantine-color-default-hover)">
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Group gap="xs">
          <Text size="sm" fw={500} data-testid="selection-count" aria-live="polite">
            {selection.kind === "matching" ? `All ${count} matching devices selected` : `${count} selected`}
          </Text>
          {offerAll && (
            <Button size="compact-sm" variant="subtle" onClick={() => onChange(allMatching(filter, total))}>
              Select all {total} matching
            </Button>
          )}
          <Button size="compact-sm" variant="subtle" color="gray" onClick={() => onChange(NOTHING)}>
            Clear selection
          </Button>
        </Group>
        <Group gap="xs">
          <Button size="xs" variant="light" onClick={() => setAction("group")} disabled={count === 0}>
            Add to group
          </Button>
          <Button size="xs" onClick={() => setAction("job")} disabled={count === 0}>
            Create job
          </Button>
        </Group>
      </Group>
      <AddToGroupModal
        opened={action === "group"}
        selection={selection}
        onClose={() => setAction(null)}
        onAdded={() => {
          setAction(null);
          onChange(NOTHING);
        }}
      />
      <CreateJobModal
        opened={action === "job"}
        selection={{ target: selectionBody(selection), description: described }}
        onClose={() => setAction(null)}
        onCreated={(job) => navigate(`/jobs/${encodeURIComponent(job.job_id)}`)}
      />
    </Paper>
  );
}
