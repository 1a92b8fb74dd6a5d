// The Create Job modal's safe-rollout sections, one collapsible item per config (AWS IoT Jobs'
// jobExecutionsRolloutConfig, abortConfig, jobExecutionsRetryConfig, schedulingConfig), and the plan in words.

import { Accordion, Alert, Badge, Button, Checkbox, Group, NativeSelect, SegmentedControl, Stack, Text, TextInput } from "@mantine/core";
import type { ReactNode } from "react";

import {
  ABORT_TYPES,
  END_BEHAVIORS,
  MAX_WINDOWS,
  RETRY_TYPES,
  filledSections,
  incompleteSections,
  summarize,
  type AbortFailureType,
  type EndBehavior,
  type IncreaseAfter,
  type RetryFailureType,
  type RolloutConfigs,
  type RolloutErrors,
  type RolloutFormState,
  type Section,
} from "./rolloutForm";

export interface RolloutSectionsProps {
  value: RolloutFormState;
  onChange: (update: (s: RolloutFormState) => RolloutFormState) => void;
  /** The errors to show (typed values at once, missing ones after a submit). */
  errors: RolloutErrors;
  configs: RolloutConfigs;
}

function SectionControl({ title, filled, invalid }: { title: string; filled: boolean; invalid: boolean }) {
  return (
    <Group gap="xs">
      <Text fw={500}>{title}</Text>
      {invalid ? (
        <Badge color="red" variant="light" size="sm">
          check
        </Badge>
      ) : filled ? (
        <Badge color="blue" variant="light" size="sm">
          set
        </Badge>
      ) : (
        <Text size="xs" c="dimmed">
          not set
        </Text>
      )}
    </Group>
  );
}

function Item({ value, title, filled, errors, children }: { value: Section; title: string; filled: boolean; errors: RolloutErrors; children: ReactNode }) {
  const prefix: Record<Section, string[]> = {
    rollout: ["maximumPerMinute", "baseRate", "factor", "increaseEvery"],
    abort: ["abort."],
    retry: ["retry."],
    schedule: ["startTime", "endTime", "endBehavior", "windows"],
  };
  const invalid = Object.keys(errors).some((k) => prefix[value].some((p) => k.startsWith(p)));
  return (
    <Accordion.Item value={value}>
      <Accordion.Control aria-label={`${title} section`}>
        <SectionControl title={title} filled={filled} invalid={invalid} />
      </Accordion.Control>
      <Accordion.Panel>{children}</Accordion.Panel>
    </Accordion.Item>
  );
}

export function RolloutSections({ value: s, onChange, errors, configs }: RolloutSectionsProps) {
  const filled = filledSections(s);
  const set = <K extends keyof RolloutFormState>(key: K, v: RolloutFormState[K]) => onChange((f) => ({ ...f, [key]: v }));
  const setRow = <K extends "abort" | "retry" | "windows">(key: K, i: number, row: Partial<RolloutFormState[K][number]>) =>
    onChange((f) => ({ ...f, [key]: f[key].map((r, j) => (j === i ? { ...r, ...row } : r)) }));
  const removeRow = (key: "abort" | "retry" | "windows", i: number) =>
    onChange((f) => ({ ...f, [key]: f[key].filter((_, j) => j !== i) }));
  const unusedAbort = ABORT_TYPES.filter((t) => !s.abort.some((r) => r.failureType === t));
  const unusedRetry = RETRY_TYPES.filter((t) => !s.retry.some((r) => r.failureType === t));

  return (
    <Stack gap="xs">
      <Accordion multiple variant="contained" chevronPosition="left">
        <Item value="rollout" title="Rollout" filled={filled.rollout} errors={errors}>
          <Stack gap="xs">
            <TextInput
              label="Maximum per minute"
              description="Devices reached a minute, 1 to 1,000,000; empty: all at once"
              inputMode="numeric"
              placeholder="unlimited"
              value={s.maximumPerMinute}
              onChange={(e) => set("maximumPerMinute", e.currentTarget.value)}
              error={errors.maximumPerMinute}
            />
            <Checkbox
              label="Exponential rate (start slower, grow by a factor)"
              checked={s.exponential}
              onChange={(e) => set("exponential", e.currentTarget.checked)}
            />
            {s.exponential && (
              <>
                <Group grow align="flex-start">
                  <TextInput
                    label="Base rate per minute"
                    inputMode="numeric"
                    value={s.baseRate}
                    onChange={(e) => set("baseRate", e.currentTarget.value)}
                    error={errors.baseRate}
                  />
                  <TextInput
                    label="Increment factor"
                    description="1.1 to 5"
                    inputMode="decimal"
                    value={s.factor}
                    onChange={(e) => set("factor", e.currentTarget.value)}
                    error={errors.factor}
                  />
                </Group>
                <Group grow align="flex-end">
                  <div>
                    <Text size="sm" fw={500} mb={4} id="increase-after-label">
                      Increase after N devices
                    </Text>
                    <SegmentedControl
                      fullWidth
                      aria-labelledby="increase-after-label"
                      value={s.increaseAfter}
                      onChange={(v) => set("increaseAfter", v as IncreaseAfter)}
                      data={[
                        { value: "notified", label: "notified" },
                        { value: "succeeded", label: "succeeded" },
                      ]}
                    />
                  </div>
                  <TextInput
                    label="N devices"
                    inputMode="numeric"
                    value={s.increaseEvery}
                    onChange={(e) => set("increaseEvery", e.currentTarget.value)}
                    error={errors.increaseEvery}
                  />
                </Group>
              </>
            )}
          </Stack>
        </Item>

        <Item value="abort" title="Abort" filled={filled.abort} errors={errors}>
          <Stack gap="xs">
            <Text size="sm" c="dimmed">
              The job is canceled when, once at least the minimum of devices have run it to an end, the failures of a
              type reach the threshold.
            </Text>
            {s.abort.map((row, i) => (
              <Group key={i} grow align="flex-start" data-testid="abort-criterion">
                <NativeSelect
                  label="Failure type"
                  data={[...ABORT_TYPES]}
                  value={row.failureType}
                  onChange={(e) => setRow("abort", i, { failureType: e.currentTarget.value as AbortFailureType })}
                  error={errors[`abort.${i}.failureType`]}
                />
                <TextInput
                  label="Threshold %"
                  inputMode="decimal"
                  value={row.threshold}
                  onChange={(e) => setRow("abort", i, { threshold: e.currentTarget.value })}
                  error={errors[`abort.${i}.threshold`]}
                />
                <TextInput
                  label="Minimum executed"
                  inputMode="numeric"
                  value={row.minExecuted}
                  onChange={(e) => setRow("abort", i, { minExecuted: e.currentTarget.value })}
                  error={errors[`abort.${i}.minExecuted`]}
                />
                <Button variant="subtle" color="red" mt={24} maw={90} onClick={() => removeRow("abort", i)} aria-label={`Remove abort criterion ${i + 1}`}>
                  Remove
                </Button>
              </Group>
            ))}
            <Group>
              <Button
                size="xs"
                variant="light"
                disabled={!unusedAbort.length}
                onClick={() => set("abort", [...s.abort, { failureType: unusedAbort[0] ?? "ALL", threshold: "", minExecuted: "" }])}
              >
                Add abort criterion
              </Button>
            </Group>
          </Stack>
        </Item>

        <Item value="retry" title="Retries" filled={filled.retry} errors={errors}>
          <Stack gap="xs">
            <Text size="sm" c="dimmed">
              A failed or timed-out execution is queued again, up to this many times.
            </Text>
            {s.retry.map((row, i) => (
              <Group key={i} grow align="flex-start" data-testid="retry-criterion">
                <NativeSelect
                  label="Retry on"
                  data={[...RETRY_TYPES]}
                  value={row.failureType}
                  onChange={(e) => setRow("retry", i, { failureType: e.currentTarget.value as RetryFailureType })}
                  error={errors[`retry.${i}.failureType`]}
                />
                <TextInput
                  label="Retries"
                  description="0 to 10"
                  inputMode="numeric"
                  value={row.retries}
                  onChange={(e) => setRow("retry", i, { retries: e.currentTarget.value })}
                  error={errors[`retry.${i}.retries`]}
                />
                <Button variant="subtle" color="red" mt={24} maw={90} onClick={() => removeRow("retry", i)} aria-label={`Remove retry ${i + 1}`}>
                  Remove
                </Button>
              </Group>
            ))}
            <Group>
              <Button
                size="xs"
                variant="light"
                disabled={!unusedRetry.length}
                onClick={() => set("retry", [...s.retry, { failureType: unusedRetry[0] ?? "ALL", retries: "" }])}
              >
                Add retry
              </Button>
            </Group>
          </Stack>
        </Item>

        <Item value="schedule" title="Schedule" filled={filled.schedule} errors={errors}>
          <Stack gap="xs">
            <Group grow align="flex-start">
              <TextInput
                label="Start time (UTC)"
                description="Until then the job is SCHEDULED"
                placeholder="2027-01-01 02:00"
                value={s.startTime}
                onChange={(e) => set("startTime", e.currentTarget.value)}
                error={errors.startTime}
              />
              <TextInput
                label="End time (UTC)"
                description="Then the end behavior applies"
                placeholder="2027-01-01 06:00"
                value={s.endTime}
                onChange={(e) => set("endTime", e.currentTarget.value)}
                error={errors.endTime}
              />
              <NativeSelect
                label="End behavior"
                description="At the end time"
                data={[{ value: "", label: "default (STOP_ROLLOUT)" }, ...END_BEHAVIORS]}
                value={s.endBehavior}
                onChange={(e) => set("endBehavior", e.currentTarget.value as EndBehavior | "")}
                error={errors.endBehavior}
              />
            </Group>
            <Text size="sm" c="dimmed">
              Maintenance windows: new devices are reached only inside one (cron in UTC: 5 fields, or AWS&apos;s cron(m h d M w *)).
            </Text>
            {s.windows.map((w, i) => (
              <Group key={i} grow align="flex-start" data-testid="maintenance-window">
                <TextInput
                  label="Window start (cron)"
                  placeholder="0 2 * * *"
                  value={w.cron}
                  onChange={(e) => setRow("windows", i, { cron: e.currentTarget.value })}
                  error={errors[`windows.${i}.cron`]}
                  styles={{ input: { fontFamily: "monospace" } }}
                />
                <TextInput
                  label="Duration (minutes)"
                  description="1 to 1440"
                  inputMode="numeric"
                  value={w.minutes}
                  onChange={(e) => setRow("windows", i, { minutes: e.currentTarget.value })}
                  error={errors[`windows.${i}.minutes`]}
                />
                <Button variant="subtle" color="red" mt={24} maw={90} onClick={() => removeRow("windows", i)} aria-label={`Remove window ${i + 1}`}>
                  Remove
                </Button>
              </Group>
            ))}
            <Group>
              <Button
                size="xs"
                variant="light"
                disabled={s.windows.length >= MAX_WINDOWS}
                onClick={() => set("windows", [...s.windows, { cron: "", minutes: "" }])}
              >
                Add maintenance window
              </Button>
            </Group>
          </Stack>
        </Item>
      </Accordion>
      <Alert color="gray" variant="light" p="xs" data-testid="rollout-summary" aria-live="polite">
        <Text size="sm">{summarize(configs, incompleteSections(s, configs))}</Text>
      </Alert>
    </Stack>
  );
}
