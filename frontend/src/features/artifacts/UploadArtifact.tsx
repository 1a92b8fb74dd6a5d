// Upload one artifact: pick a file, name it (defaults to the file's name), watch the bytes go, cancel.

import { Alert, Button, Card, FileInput, Group, Progress, Stack, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";

import {
  ARTIFACT_NAME_PATTERN,
  uploadArtifact,
  uploadErrorText,
  type UploadProgress,
} from "../../services/api/artifacts";
import { pathKey } from "../../services/api/openapi";
import { formatBytes } from "../common/format";

/** A file name made into an artifact name the API takes: other characters become '-'. */
export function nameFromFile(fileName: string): string {
  return fileName
    .replace(/[^A-Za-z0-9_.-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 128);
}

export function nameError(name: string): string | undefined {
  if (!name) return "required";
  if (!ARTIFACT_NAME_PATTERN.test(name)) {
    return "letters, digits, '.', '_' or '-', starting with a letter or digit, at most 128";
  }
  return undefined;
}

const percentOf = (p: UploadProgress) => (p.total > 0 ? Math.min(100, Math.round((p.loaded / p.total) * 100)) : 0);

export function UploadArtifact() {
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState("");
  const [submitted, setSubmitted] = useState(false);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const controller = useRef<AbortController | null>(null);
  const upload = useMutation({
    mutationFn: ({ name, file }: { name: string; file: File }) => {
      controller.current = new AbortController();
      setProgress({ loaded: 0, total: file.size });
      return uploadArtifact(name, file, { onProgress: setProgress, signal: controller.current.signal });
    },
    onSuccess: (artifact) => {
      notifications.show({ color: "teal", title: "Artifact uploaded", message: `${artifact.name}: ${formatBytes(artifact.size)}` });
      setFile(null);
      setName("");
      setSubmitted(false);
      void queryClient.invalidateQueries({ queryKey: pathKey("/customer/artifacts") });
    },
    onSettled: () => {
      controller.current = null;
      setProgress(null);
    },
  });
  const canceled = upload.error instanceof DOMException && upload.error.name === "AbortError";
  const shownNameError = submitted ? nameError(name) : undefined;

  function pick(next: File | null) {
    setFile(next);
    upload.reset();
    if (next && (!name || name === nameFromFile(file?.name ?? ""))) setName(nameFromFile(next.name));
  }

  function onSubmit(e: FormEvent) {
    e.preventDefault();
    setSubmitted(true);
    if (file && !nameError(name)) upload.mutate({ name, file });
  }

  return (
    <Card withBorder>
      <form onSubmit={onSubmit} noValidate aria-label="upload artifact">
        <Stack gap="sm">
          <Title order={4}>Upload an artifact</Title>
          <Group grow align="flex-start">
            <FileInput
              label="File"
              placeholder="Choose a file"
              value={file}
              onChange={pick}
              clearable
              disabled={upload.isPending}
              error={submitted && !file ? "choose a file" : undefined}
              data-testid="artifact-file"
            />
            <TextInput
              label="Name"
              description="Jobs reference it as ${iotcloud:artifact-url:NAME}"
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              disabled={upload.isPending}
              error={shownNameError}
            />
          </Group>
          {progress && (
            <Stack gap={4} data-testid="upload-progress">
              <Progress value={percentOf(progress)} size="lg" animated aria-label={`upload of ${name}`} />
              <Text size="sm" c="dimmed">
                Uploading {percentOf(progress)}% ({formatBytes(progress.loaded)} of {formatBytes(progress.total)})
              </Text>
            </Stack>
          )}
          {upload.error && !canceled && (
            <Alert color="red" role="alert" title="The upload failed" data-testid="upload-error">
              {uploadErrorText(upload.error, upload.variables?.name ?? name)}
            </Alert>
          )}
          {canceled && (
            <Text size="sm" c="dimmed" role="status">
              Upload canceled: nothing was stored.
            </Text>
          )}
          <Group justify="flex-end">
            {upload.isPending && (
              <Button variant="default" onClick={() => controller.current?.abort()}>
                Cancel upload
              </Button>
            )}
            <Button type="submit" loading={upload.isPending}>
              Upload
            </Button>
          </Group>
        </Stack>
      </form>
    </Card>
  );
}
