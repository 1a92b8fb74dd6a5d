// Create Job from a template (AWS CreateJob with jobTemplateArn and documentParameters): a value for each of
// the template's parameters and a target. The API's 400 naming missing or unknown parameters is shown by name.

import { Alert, Button, Group, List, Modal, SegmentedControl, Stack, Text, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { ApiError } from "../../services/api/client";
import type { Job, JobCreate } from "../../services/api/jobs";
import { fetchClient } from "../../services/api/openapi";
import type { Template } from "../../services/api/templates";
import type { TargetType } from "../jobs/jobForm";
import { DevicePicker, GroupPicker } from "../jobs/TargetPickers";
import { answer, invalidateJobLists } from "../jobs/jobQueries";
import { MAX_PARAMETER_VALUE, buildJobFromTemplate, type FromTemplateState } from "./templateForm";

export function CreateJobFromTemplateModal({
  template,
  opened,
  onClose,
  onCreated,
}: {
  template: Template;
  opened: boolean;
  onClose: () => void;
  onCreated: (job: Job) => void;
}) {
  return (
    <Modal opened={opened} onClose={onClose} title={`Create job from ${template.template_id}`} size="lg" centered>
      {opened && <FromTemplateForm template={template} onClose={onClose} onCreated={onCreated} />}
    </Modal>
  );
}

/** The parameter names an API 400 lists (`missing` or `unknown`), if it lists any. */
function namesIn(error: unknown, key: "missing" | "unknown"): string[] {
  const names = error instanceof ApiError && error.status === 400 ? error.body?.[key] : undefined;
  return Array.isArray(names) ? names.filter((n): n is string => typeof n === "string") : [];
}

function FromTemplateForm({ template, onClose, onCreated }: { template: Template; onClose: () => void; onCreated: (job: Job) => void }) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState<FromTemplateState>({ values: {}, targetType: "device", deviceId: "", groupId: "", jobId: "" });
  const [submitted, setSubmitted] = useState(false);
  const mutation = useMutation({
    mutationFn: (body: JobCreate) => answer(fetchClient.POST("/customer/jobs", { body })),
    onSuccess: (job) => {
      invalidateJobLists(queryClient);
      notifications.show({ color: "teal", title: "Job created", message: `${job.job_id}: ${job.execution_count} executions queued` });
      onCreated(job);
    },
  });
  const checked = buildJobFromTemplate(template.template_id, template.parameters, form);
  const errors = submitted && !checked.ok ? checked.errors : {};
  const missing = namesIn(mutation.error, "missing");
  const unknown = namesIn(mutation.error, "unknown");
  const set = <K extends keyof FromTemplateState>(key: K, value: FromTemplateState[K]) => setForm((f) => ({ ...f, [key]: value }));

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    if (checked.ok) mutation.mutate(checked.body);
  }

  return (
    <form onSubmit={onSubmit} noValidate aria-label="create job from template">
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          Document type <b>{template.document_type}</b>; each placeholder <code>{"${aws:iot:parameter:NAME}"}</code> of the
          template's document is replaced by the value given here (as text, at most {MAX_PARAMETER_VALUE} characters).
        </Text>
        {template.parameters.length === 0 && (
          <Text size="sm" data-testid="no-parameters">
            This template has no parameters: every job gets its document as it is.
          </Text>
        )}
        {template.parameters.map((name) => (
          <TextInput
            key={name}
            label={name}
            description={`replaces \${aws:iot:parameter:${name}}`}
            value={form.values[name] ?? ""}
            onChange={(e) => {
              const value = e.currentTarget.value;
              setForm((f) => ({ ...f, values: { ...f.values, [name]: value } }));
            }}
            error={errors.values?.[name] ?? (missing.includes(name) ? "the API says this is missing" : undefined)}
          />
        ))}
        <div>
          <Text size="sm" fw={500} mb={4} id="template-target-label">
            Target
          </Text>
          <SegmentedControl
            fullWidth
            aria-labelledby="template-target-label"
            value={form.targetType}
            onChange={(v) => set("targetType", v as TargetType)}
            data={[
              { value: "device", label: "One device" },
              { value: "group", label: "A group" },
              { value: "all", label: "Whole fleet" },
            ]}
          />
        </div>
        {form.targetType === "device" && <DevicePicker value={form.deviceId} onChange={(v) => set("deviceId", v)} error={errors.target} />}
        {form.targetType === "group" && <GroupPicker value={form.groupId} onChange={(v) => set("groupId", v)} error={errors.target} />}
        {form.targetType === "all" && (
          <Text size="sm" c="dimmed">
            Every ACTIVE device of the tenant.
          </Text>
        )}
        <TextInput
          label="Job ID (optional)"
          description="Generated when empty"
          value={form.jobId}
          onChange={(e) => set("jobId", e.currentTarget.value)}
          error={errors.jobId}
        />
        {mutation.error && (
          <Alert color="red" role="alert" title="The API refused the job" data-testid="create-job-error">
            <Text size="sm">{mutation.error.message}</Text>
            {(missing.length > 0 || unknown.length > 0) && (
              <List size="sm" mt="xs">
                {missing.length > 0 && <List.Item>Missing: {missing.join(", ")}</List.Item>}
                {unknown.length > 0 && <List.Item>Not parameters of the template: {unknown.join(", ")}</List.Item>}
              </List>
            )}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={mutation.isPending}>
            Create job
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
