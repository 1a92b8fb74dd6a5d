// Create Template (AWS CreateJobTemplate): id, description, document type, the document with its placeholders,
// default timeouts, and default rollout/abort/retry/schedule configs (the Create Job sections, reused).

import { Alert, Badge, Button, Group, JsonInput, Modal, Stack, Text, TextInput, Textarea } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { fetchClient, pathKey } from "../../services/api/openapi";
import type { Template, TemplateCreate } from "../../services/api/templates";
import { answer } from "../jobs/jobQueries";
import { parseParams } from "../jobs/jobForm";
import { RolloutSections } from "../jobs/RolloutSections";
import { buildRolloutConfigs, emptyRolloutForm, type RolloutFormState } from "../jobs/rolloutForm";
import { buildTemplateRequest, emptyTemplateForm, placeholders, type TemplateFormState } from "./templateForm";

export function CreateTemplateModal({
  opened,
  onClose,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  onCreated: (template: Template) => void;
}) {
  return (
    <Modal opened={opened} onClose={onClose} title="Create job template" size="lg" centered>
      {opened && <CreateTemplateForm onClose={onClose} onCreated={onCreated} />}
    </Modal>
  );
}

function CreateTemplateForm({ onClose, onCreated }: { onClose: () => void; onCreated: (template: Template) => void }) {
  const queryClient = useQueryClient();
  const [form, setForm] = useState<TemplateFormState>(emptyTemplateForm);
  const [rollout, setRollout] = useState<RolloutFormState>(emptyRolloutForm);
  const [submitted, setSubmitted] = useState(false);
  const mutation = useMutation({
    mutationFn: (body: TemplateCreate) => answer(fetchClient.POST("/customer/job-templates", { body })),
    onSuccess: (template) => {
      void queryClient.invalidateQueries({ queryKey: pathKey("/customer/job-templates") });
      notifications.show({ color: "teal", title: "Template created", message: template.template_id });
      onCreated(template);
    },
  });
  const plan = buildRolloutConfigs(rollout);
  const planErrors = submitted ? { ...plan.missing, ...plan.errors } : plan.errors;
  const checked = buildTemplateRequest(form, plan.configs);
  const errors = submitted && !checked.ok ? checked.errors : {};
  const document = parseParams(form.document);
  const names = document.value ? placeholders(document.value) : [];
  const set = <K extends keyof TemplateFormState>(key: K, value: TemplateFormState[K]) => setForm((f) => ({ ...f, [key]: value }));

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    if (checked.ok && plan.ok) mutation.mutate(checked.body);
  }

  return (
    <form onSubmit={onSubmit} noValidate aria-label="create template">
      <Stack gap="sm">
        <TextInput
          label="Template ID"
          description="Letters, digits, '_' or '-', at most 64"
          value={form.templateId}
          onChange={(e) => set("templateId", e.currentTarget.value)}
          error={errors.templateId}
        />
        <Textarea
          label="Description (optional)"
          autosize
          minRows={1}
          maxRows={4}
          value={form.description}
          onChange={(e) => set("description", e.currentTarget.value)}
          error={errors.description}
        />
        <TextInput
          label="Document type"
          description="What the device should do, e.g. firmware_update"
          value={form.documentType}
          onChange={(e) => set("documentType", e.currentTarget.value)}
          error={errors.documentType}
        />
        <JsonInput
          label="Document (JSON)"
          description="The jobs' parameters handed to each device. Any string value may hold a placeholder ${aws:iot:parameter:NAME}: each job made from the template gives NAME's value, which replaces it."
          autosize
          minRows={3}
          maxRows={14}
          spellCheck={false}
          value={form.document}
          onChange={(v) => set("document", v)}
          error={document.error ?? errors.document}
          styles={{ input: { fontFamily: "monospace" } }}
        />
        <Group gap="xs" data-testid="template-parameters">
          <Text size="sm">Parameters:</Text>
          {names.length ? (
            names.map((n) => (
              <Badge key={n} variant="light" tt="none">
                {n}
              </Badge>
            ))
          ) : (
            <Text size="sm" c="dimmed">
              none (every job gets the document as it is)
            </Text>
          )}
        </Group>
        <Group grow align="flex-start">
          <TextInput
            label="Expires in (hours)"
            description="Default: executions still QUEUED then time out"
            inputMode="decimal"
            placeholder="never"
            value={form.expiresInHours}
            onChange={(e) => set("expiresInHours", e.currentTarget.value)}
            error={errors.expiresInHours}
          />
          <TextInput
            label="In-progress timeout (minutes)"
            description="Default: a claimed execution not finished by then times out"
            inputMode="numeric"
            placeholder="none"
            value={form.inProgressTimeoutMinutes}
            onChange={(e) => set("inProgressTimeoutMinutes", e.currentTarget.value)}
            error={errors.inProgressTimeoutMinutes}
          />
        </Group>
        <Text size="sm" fw={500}>
          Default configs of the jobs made from it (a job's own config wins)
        </Text>
        <RolloutSections value={rollout} onChange={setRollout} errors={planErrors} configs={plan.configs} />
        {mutation.error && (
          <Alert color="red" role="alert" title="The API refused the template" data-testid="create-template-error">
            {mutation.error.message}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={mutation.isPending} disabled={!!document.error}>
            Create template
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
