// Import devices from a CSV file: the server checks the whole file first (a dry run: the preview, or every
// problem by line), then creates them all at once. Their provision tokens come back this once, as a CSV
// download built in the browser.

import { Alert, Button, Code, FileInput, Group, List, Modal, Stack, Table, Text } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { $api, apiError, pathKey } from "../../services/api/openapi";
import { csvProblems, downloadText, existingIds, tokensCsv, type ImportedDevice } from "./tokensCsv";

const PREVIEW_ROWS = 10;
const MAX_FILE_BYTES = 4 * 1024 * 1024; // the API's limit for the file's text

export function ImportDevicesModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  return (
    <Modal opened={opened} onClose={onClose} title="Import devices from CSV" size="xl" centered closeOnClickOutside={false}>
      {opened && <ImportForm onClose={onClose} />}
    </Modal>
  );
}

function ImportForm({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [text, setText] = useState<string | null>(null);
  const [readError, setReadError] = useState<string | null>(null);
  const [downloaded, setDownloaded] = useState(false);
  const check = $api.useMutation("post", "/customer/devices/import");
  const create = $api.useMutation("post", "/customer/devices/import", {
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: pathKey("/customer/devices") });
    },
  });

  async function choose(chosen: File | null) {
    setFile(chosen);
    setText(null);
    setReadError(null);
    check.reset();
    create.reset();
    if (!chosen) return;
    if (chosen.size > MAX_FILE_BYTES) {
      setReadError(`the file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB`);
      return;
    }
    const content = await chosen.text();
    setText(content);
    check.mutate({ body: { csv: content || " ", dry_run: true } });
  }

  if (create.data) {
    const devices = create.data.devices;
    return (
      <Stack gap="sm">
        <Alert color="teal" title={`${create.data.count} devices created`} />
        <Alert color="orange" role="alert" title="Provision tokens are shown once" data-testid="tokens-once">
          Each device's provision token is in this answer only: the server keeps just a hash of it. Download them now;
          once this dialog is closed, a token can only be replaced (rotate it on the device's page).
        </Alert>
        <Group>
          <Button
            onClick={() => {
              downloadText(`device-tokens-${new Date().toISOString().slice(0, 19).replaceAll(":", "")}.csv`, tokensCsv(devices));
              setDownloaded(true);
            }}
          >
            Download tokens (CSV)
          </Button>
          {downloaded && <Text size="sm" c="teal">Downloaded.</Text>}
        </Group>
        <Group justify="flex-end">
          <Button variant={downloaded ? "filled" : "default"} onClick={onClose}>
            {downloaded ? "Done" : "Close without downloading"}
          </Button>
        </Group>
      </Stack>
    );
  }

  const problems = csvProblems(check.error);
  const existing = existingIds(check.error);
  const preview = check.data;
  return (
    <Stack gap="sm">
      <Text size="sm">
        A header row, then one device a row: <Code>device_id</Code> (required), <Code>name</Code> (optional); every other
        column becomes an attribute (empty cells set none). At most 10,000 devices. The whole file is checked first: any
        bad row refuses it, and nothing is created.
      </Text>
      <FileInput
        label="CSV file"
        placeholder="choose a .csv file"
        accept=".csv,text/csv"
        value={file}
        onChange={(f) => void choose(f)}
        clearable
        error={readError}
      />
      {check.isPending && <Text size="sm">Checking the file…</Text>}
      {check.error && (
        <Alert color="red" role="alert" title="The file cannot be imported" data-testid="import-errors">
          <Text size="sm">{apiError(check.error)?.message}</Text>
          {problems.length > 0 && (
            <Table mt="xs" aria-label="problems" withTableBorder verticalSpacing={4}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Line</Table.Th>
                  <Table.Th>Column</Table.Th>
                  <Table.Th>Problem</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {problems.map((p, i) => (
                  <Table.Tr key={i}>
                    <Table.Td>{p.line ?? "—"}</Table.Td>
                    <Table.Td>{p.column ?? "—"}</Table.Td>
                    <Table.Td>{p.message}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
          {existing.length > 0 && (
            <List size="sm" mt="xs" aria-label="existing devices">
              {existing.slice(0, 20).map((id) => (
                <List.Item key={id}>{id}</List.Item>
              ))}
            </List>
          )}
        </Alert>
      )}
      {preview && <Preview devices={preview.devices} count={preview.count} />}
      {create.error && (
        <Alert color="red" role="alert">
          {apiError(create.error)?.message}
        </Alert>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={onClose}>
          Cancel
        </Button>
        <Button
          disabled={!preview || text === null}
          loading={create.isPending}
          onClick={() => text !== null && create.mutate({ body: { csv: text, dry_run: false } })}
        >
          {preview ? `Import ${preview.count} devices` : "Import"}
        </Button>
      </Group>
    </Stack>
  );
}

function Preview({ devices, count }: { devices: ImportedDevice[]; count: number }) {
  const shown = devices.slice(0, PREVIEW_ROWS);
  return (
    <Stack gap={4} data-testid="import-preview">
      <Text size="sm" fw={500}>
        {count} device{count === 1 ? "" : "s"} ready to import{count > shown.length ? ` (the first ${shown.length} below)` : ""}.
      </Text>
      <Table aria-label="preview" withTableBorder verticalSpacing={4}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Device</Table.Th>
            <Table.Th>Name</Table.Th>
            <Table.Th>Attributes</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {shown.map((d) => (
            <Table.Tr key={d.device_id}>
              <Table.Td ff="monospace">{d.device_id}</Table.Td>
              <Table.Td>{d.name}</Table.Td>
              <Table.Td ff="monospace">
                {Object.entries(d.attributes)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(", ")}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
