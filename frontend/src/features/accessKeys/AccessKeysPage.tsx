// AWS access keys (docs/aws-compat.md): create one for boto3 (the secret is shown once), see the tenant's keys,
// revoke one (its creator or an admin). A key carries its creator's role.

import { Alert, Badge, Button, Code, CopyButton, Group, Modal, Stack, Table, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { useSession } from "../../app/SessionContext";
import { $api, pathKey } from "../../services/api/openapi";
import type { Schemas } from "../../services/api/types";
import { formatTime } from "../common/format";
import { Empty, ErrorAlert, QueryState } from "../common/QueryState";

export type AccessKey = Schemas["AccessKeyOut"];
export type AccessKeyCreated = Schemas["AccessKeyCreated"];

/** Every cached view of the tenant's keys: what a create or a revoke invalidates. */
const KEYS = pathKey("/customer/access-keys");

function Copyable({ label, value }: { label: string; value: string }) {
  return (
    <Group wrap="nowrap" gap="xs">
      <Text size="sm" w={170}>
        {label}
      </Text>
      <Code block style={{ flex: 1, wordBreak: "break-all" }} data-testid={label}>
        {value}
      </Code>
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Button color={copied ? "teal" : "blue"} onClick={copy} variant="light" aria-label={`Copy ${label}`}>
            {copied ? "Copied" : "Copy"}
          </Button>
        )}
      </CopyButton>
    </Group>
  );
}

function KeyReveal({ created }: { created: AccessKeyCreated }) {
  return (
    <Stack gap="sm" data-testid="key-reveal">
      <Alert color="yellow" title="Copy the secret now" role="status">
        This is the only time the secret access key is shown; iotcloud keeps it encrypted and never shows it again.
        The key acts with the role <b>{created.role}</b>.
      </Alert>
      <Copyable label="aws_access_key_id" value={created.access_key_id} />
      <Copyable label="aws_secret_access_key" value={created.secret_access_key} />
      <Text size="xs" c="dimmed">
        boto3: pass them as aws_access_key_id and aws_secret_access_key, with endpoint_url the AWS-compatible API
        (port 8090 by default) and the installation&apos;s region (us-east-1 by default).
      </Text>
    </Stack>
  );
}

function RevokeButton({ accessKey }: { accessKey: AccessKey }) {
  const queryClient = useQueryClient();
  const [opened, setOpened] = useState(false);
  const revoke = $api.useMutation("post", "/customer/access-keys/{access_key_id}/revoke", {
    onSuccess: () => {
      setOpened(false);
      notifications.show({ color: "teal", title: "Access key revoked", message: accessKey.access_key_id });
    },
    onSettled: () => void queryClient.invalidateQueries({ queryKey: KEYS }),
  });
  const close = () => {
    setOpened(false);
    revoke.reset();
  };
  return (
    <>
      <Button size="xs" color="red" variant="light" onClick={() => setOpened(true)}>
        Revoke
      </Button>
      <Modal opened={opened} onClose={close} title={`Revoke ${accessKey.access_key_id}?`} centered>
        <Stack gap="sm">
          <Text size="sm">Requests signed with this key are refused at once. It cannot be undone.</Text>
          {revoke.error && <ErrorAlert error={revoke.error} />}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Keep it
            </Button>
            <Button color="red" loading={revoke.isPending} onClick={() => revoke.mutate({ params: { path: { access_key_id: accessKey.access_key_id } } })}>
              Revoke key
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}

export function AccessKeysPage() {
  const session = useSession();
  const queryClient = useQueryClient();
  const [created, setCreated] = useState<AccessKeyCreated | null>(null);
  const keys = $api.useQuery("get", "/customer/access-keys");
  const create = $api.useMutation("post", "/customer/access-keys", {
    onSuccess: (key) => setCreated(key),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: KEYS }),
  });
  const mayRevoke = (k: AccessKey) => session?.role === "admin" || k.created_by === session?.email;

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={3}>Access keys</Title>
        <Button onClick={() => create.mutate({})} loading={create.isPending}>
          Create access key
        </Button>
      </Group>
      <Text size="sm" c="dimmed">
        Keys for boto3 and other AWS SDKs against the AWS-compatible API, signed with AWS Signature Version 4. A key
        has your role.
      </Text>
      {create.error && <ErrorAlert error={create.error} />}
      <Modal opened={created !== null} onClose={() => setCreated(null)} title="New access key" size="lg" centered>
        {created && (
          <Stack>
            <KeyReveal created={created} />
            <Group justify="flex-end">
              <Button onClick={() => setCreated(null)}>Done</Button>
            </Group>
          </Stack>
        )}
      </Modal>
      <QueryState what="access keys" data={keys.data} error={keys.error} onRetry={() => void keys.refetch()}>
        {({ access_keys }) =>
          access_keys.length === 0 ? (
            <Empty>No access keys yet.</Empty>
          ) : (
            <Table striped aria-label="access keys" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Access key id</Table.Th>
                  <Table.Th>Role</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {access_keys.map((k) => (
                  <Table.Tr key={k.access_key_id}>
                    <Table.Td ff="monospace">{k.access_key_id}</Table.Td>
                    <Table.Td>{k.role}</Table.Td>
                    <Table.Td>
                      {formatTime(k.created_at)} by {k.created_by}
                    </Table.Td>
                    <Table.Td>
                      {k.revoked_at ? (
                        <Badge color="gray">revoked {formatTime(k.revoked_at)}</Badge>
                      ) : (
                        <Badge color="teal">active</Badge>
                      )}
                    </Table.Td>
                    <Table.Td>{!k.revoked_at && mayRevoke(k) && <RevokeButton accessKey={k} />}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryState>
    </Stack>
  );
}
