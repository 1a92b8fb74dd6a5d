// Create Job: a document (type + JSON params) sent to one device, a group, or the whole fleet.

import {
  Alert,
  Autocomplete,
  Button,
  Group,
  JsonInput,
  Modal,
  SegmentedControl,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import type { Job, JobCreate } from "../../services/api/jobs";
import type { Schemas } from "../../services/api/types";
import { fetchClient } from "../../services/api/openapi";
import {
  DOCUMENT_PRESETS,
  buildJobRequest,
  emptyJobForm,
  parseParams,
  type JobFormErrors,
  type JobFormState,
  type TargetType,
} from "./jobForm";
import { ArtifactUrlPicker, withArtifactUrl } from "./ArtifactUrlPicker";
import { answer, invalidateJobLists } from "./jobQueries";
import { RolloutSections } from "./RolloutSections";
import { buildRolloutConfigs, emptyRolloutForm, type RolloutFormState } from "./rolloutForm";
import { DevicePicker, GroupPicker } from "./TargetPickers";
import { TargetSelectionControl } from "./TargetSelection";
import { useJobReach, type Reach } from "./useJobReach";

export interface CreateJobModalProps {
  opened: boolean;
  initialTarget?: { type: TargetType; id?: string };
  /** A selection of devices from the devices list (features/devices): the job's target_devices. */
  selection?: { target: Schemas["DeviceSelection"]; description: string };
  onClose: () => void;
  onCreated: (job: Job) => void;
}

export function CreateJobModal({ opened, onClose, ...rest }: CreateJobModalProps) {
  return (
    <Modal opened={opened} onClose={onClose} title="Create job" size="lg" centered>
      {opened && <CreateJobForm onClose={onClose} {...rest} />}
    </Modal>
  );
}

function ReachLine({ reach, targetType, continuous }: { reach: Reach; targetType: TargetType; continuous: boolean }) {
  let text: string;
  if (reach.error) text = `Cannot tell how many devices it will reach: ${reach.error}`;
  else if (reach.loading) text = "Counting the devices it will reach…";
  else if (reach.count === null) text = `Choose a ${targetType === "group" ? "group" : "device"} to see the job's reach.`;
  else text = `This job will reach ${reach.count} device${reach.count === 1 ? "" : "s"}.`;
  const empty = reach.count === 0;
  return (
    <Alert color={reach.error || empty ? "orange" : "blue"} variant="light" data-testid="job-reach" p="xs">
      <Text size="sm">
        {text}
        {empty && !continuous ? " A job with no executions completes at once." : ""}
      </Text>
    </Alert>
  );
}

function CreateJobForm({ initialTarget, selection, onClose, onCreated }: Omit<CreateJobModalProps, "opened">) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState<JobFormState>(() => emptyJobForm(selection ? { type: "all" } : initialTarget));
  const [rollout, setRollout] = useState<RolloutFormState>(emptyRolloutForm);
  const [submitted, setSubmitted] = useState(false);
  const mutation = useMutation({
    mutationFn: (body: JobCreate) => answer(fetchClient.POST("/customer/jobs", { body })),
    onSuccess: (job) => {
      invalidateJobLists(queryClient);
      notifications.show({ color: "teal", title: "Job created", message: `${job.job_id}: ${job.execution_count} executions queued` });
      onCreated(job);
    },
  });
  const reach = useJobReach(form.targetType, form.deviceId, form.groupId);

  const checked = buildJobRequest(form);
  const errors: JobFormErrors = submitted && !checked.ok ? checked.errors : {};
  const paramsError = parseParams(form.params).error; // shown as you type
  const plan = buildRolloutConfigs(rollout);
  const planErrors = submitted ? { ...plan.missing, ...plan.errors } : plan.errors;
  const set = <K extends keyof JobFormState>(key: K, value: JobFormState[K]) =>
    setForm((f) => ({ ...f, [key]: value }));

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    if (!checked.ok || !plan.ok) return;
    const target = selection ? { target_all: false, target_devices: selection.target } : {};
    mutation.mutate({ ...checked.body, ...target, ...plan.configs });
  }

  return (
    <form onSubmit={onSubmit} noValidate aria-label="create job">
      <Stack gap="sm">
        {selection ? (
          <Alert color="blue" variant="light" p="xs" data-testid="job-reach">
            <Text size="sm">Target: the ACTIVE devices among {selection.description} (a snapshot).</Text>
          </Alert>
        ) : (
          <>
        <div>
          <Text size="sm" fw={500} mb={4} id="target-type-label">
            Target
          </Text>
          <SegmentedControl
            fullWidth
            aria-labelledby="target-type-label"
            value={form.targetType}
            onChange={(v) => set("targetType", v as TargetType)}
            data={[
              { value: "device", label: "One device" },
              { value: "group", label: "A group" },
              { value: "all", label: "Whole fleet" },
            ]}
          />
        </div>
        {form.targetType === "device" && (
          <DevicePicker value={form.deviceId} onChange={(v) => set("deviceId", v)} error={errors.target} />
        )}
        {form.targetType === "group" && (
          <GroupPicker value={form.groupId} onChange={(v) => set("groupId", v)} error={errors.target} />
        )}
        {form.targetType === "all" && (
          <Text size="sm" c="dimmed">
            Every ACTIVE device of the tenant.
          </Text>
        )}
        {form.targetType !== "device" && (
          <TargetSelectionControl value={form.targetSelection} onChange={(v) => set("targetSelection", v)} />
        )}
        <ReachLine reach={reach} targetType={form.targetType} continuous={form.targetType !== "device" && form.targetSelection === "CONTINUOUS"} />
          </>
        )}

        <Autocomplete
          label="Document type"
          description="What the device should do; pick a suggestion or type your own"
          placeholder="reboot"
          data={Object.keys(DOCUMENT_PRESETS)}
          value={form.documentType}
          error={errors.documentType}
          onChange={(value) =>
            setForm((f) => ({
              ...f,
              documentType: value,
              params: ["", "{}"].includes(f.params.trim()) && DOCUMENT_PRESETS[value] ? DOCUMENT_PRESETS[value] : f.params,
            }))
          }
        />
        <JsonInput
          label="Parameters (JSON)"
          description="A JSON object handed to the device with the document"
          autosize
          minRows={3}
          maxRows={12}
          spellCheck={false}
          value={form.params}
          onChange={(v) => set("params", v)}
          error={paramsError}
          styles={{ input: { fontFamily: "monospace" } }}
        />
        <ArtifactUrlPicker disabled={!!paramsError} onPick={(name) => set("params", withArtifactUrl(form.params, name))} />
        <Group grow align="flex-start">
          <TextInput
            label="Expires in (hours)"
            description="Executions still QUEUED then time out"
            inputMode="decimal"
            placeholder="never"
            value={form.expiresInHours}
            onChange={(e) => set("expiresInHours", e.currentTarget.value)}
            error={errors.expiresInHours}
          />
          <TextInput
            label="In-progress timeout (minutes)"
            description="A claimed execution not finished by then times out"
            inputMode="numeric"
            placeholder="none"
            value={form.inProgressTimeoutMinutes}
            onChange={(e) => set("inProgressTimeoutMinutes", e.currentTarget.value)}
            error={errors.inProgressTimeoutMinutes}
          />
        </Group>
        <Group grow align="flex-start">
          <TextInput
            label="Job ID (optional)"
            description="Generated when empty"
            placeholder="generated"
            value={form.jobId}
            onChange={(e) => set("jobId", e.currentTarget.value)}
            error={errors.jobId}
          />
        </Group>

        <RolloutSections value={rollout} onChange={setRollout} errors={planErrors} configs={plan.configs} />

        {mutation.error && (
          <Alert color="red" role="alert" title="The API refused the job" data-testid="create-job-error">
            {mutation.error.message}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={mutation.isPending} disabled={!!paramsError}>
            Create job
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
