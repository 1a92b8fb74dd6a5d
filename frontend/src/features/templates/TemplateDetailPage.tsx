// One job template: its document and the parameters a job must fill, its defaults, Create Job from it, Delete.

import { Anchor, Badge, Button, Card, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { $api } from "../../services/api/openapi";
import { canWrite } from "../../services/api/session";
import { Fact } from "../common/Fact";
import { JsonBlock } from "../common/JsonBlock";
import { QueryState } from "../common/QueryState";
import { formatTime } from "../common/format";
import { summarize, type RolloutConfigs } from "../jobs/rolloutForm";
import { CreateJobFromTemplateModal } from "./CreateJobFromTemplate";
import { DeleteTemplateButton } from "./DeleteTemplateButton";

export function TemplateDetailPage() {
  const { templateId = "" } = useParams();
  const session = useSession();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const template = $api.useQuery("get", "/customer/job-templates/{template_id}", {
    params: { path: { template_id: templateId } },
  });

  return (
    <Stack gap="md">
      <Anchor component={Link} to="/templates" size="sm">
        ← Templates
      </Anchor>
      <QueryState what="template" data={template.data} error={template.error} onRetry={() => void template.refetch()}>
        {(t) => (
          <>
            <Group justify="space-between">
              <Title order={2}>
                Template <span style={{ fontFamily: "monospace" }}>{t.template_id}</span>
              </Title>
              {canWrite(session) && (
                <Group gap="xs">
                  <Button onClick={() => setCreating(true)}>Create job from template</Button>
                  <DeleteTemplateButton templateId={t.template_id} onDeleted={() => navigate("/templates")} />
                </Group>
              )}
            </Group>
            {t.description && <Text size="sm">{t.description}</Text>}
            <Card withBorder>
              <SimpleGrid cols={{ base: 2, md: 4 }} spacing="md">
                <Fact label="Document type">{t.document_type}</Fact>
                <Fact label="Expires (default)">{t.expires_in_hours ? `${t.expires_in_hours} h after creation` : "never"}</Fact>
                <Fact label="In-progress timeout (default)">
                  {t.in_progress_timeout_minutes ? `${t.in_progress_timeout_minutes} min after a claim` : "none"}
                </Fact>
                <Fact label="Created">
                  {formatTime(t.created_at)}
                  {t.created_by ? ` by ${t.created_by}` : ""}
                </Fact>
              </SimpleGrid>
            </Card>
            <Card withBorder>
              <Title order={4} mb="xs">
                Parameters
              </Title>
              {t.parameters.length ? (
                <Group gap="xs" aria-label="template parameters">
                  {t.parameters.map((p) => (
                    <Badge key={p} variant="light" tt="none" data-parameter={p}>
                      {p}
                    </Badge>
                  ))}
                </Group>
              ) : (
                <Text size="sm" c="dimmed">
                  None: every job gets the document as it is.
                </Text>
              )}
            </Card>
            <Card withBorder>
              <Title order={4} mb="xs">
                Document
              </Title>
              <JsonBlock value={t.document} label="template document" />
            </Card>
            <Card withBorder>
              <Title order={4} mb="xs">
                Default configs
              </Title>
              <Text size="sm" data-testid="template-configs">
                {Object.keys(t.configs).length ? summarize(t.configs as RolloutConfigs) : "None: jobs reach every device at once."}
              </Text>
            </Card>
            <CreateJobFromTemplateModal
              template={t}
              opened={creating}
              onClose={() => setCreating(false)}
              onCreated={(job) => {
                setCreating(false);
                navigate(`/jobs/${encodeURIComponent(job.job_id)}`);
              }}
            />
          </>
        )}
      </QueryState>
    </Stack>
  );
}
