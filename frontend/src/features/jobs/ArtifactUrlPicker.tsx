// Create Job's helper to point the document at an uploaded artifact: picks one and sets the params' "url"
// to its placeholder, which each device receives as a signed download URL.

import { Select } from "@mantine/core";

import { artifactPlaceholder } from "../../services/api/artifacts";
import { $api } from "../../services/api/openapi";
import { formatBytes } from "../common/format";

/** The params text with `"url"` set to artifact `name`'s placeholder (params must be a valid JSON object). */
export function withArtifactUrl(paramsText: string, name: string): string {
  const current: unknown = paramsText.trim() ? JSON.parse(paramsText) : {};
  return JSON.stringify({ ...(current as Record<string, unknown>), url: artifactPlaceholder(name) }, null, 2);
}

export function ArtifactUrlPicker({ disabled, onPick }: { disabled: boolean; onPick: (name: string) => void }) {
  const listParams = { limit: 100 };
  const artifacts = $api.useQuery("get", "/customer/artifacts", { params: { query: listParams } });
  const options = (artifacts.data?.artifacts ?? []).map((a) => ({
    value: a.name,
    label: `${a.name} (${formatBytes(a.size)})`,
  }));
  if (options.length === 0) return null; // none uploaded (or none listed): nothing to offer
  return (
    <Select
      label="Artifact URL (optional)"
      description={`Sets the parameters' "url" to an uploaded file: each device gets a signed download URL`}
      placeholder={disabled ? "fix the parameters first" : "Pick an artifact"}
      searchable
      data={options}
      value={null}
      onChange={(v) => v && onPick(v)}
      disabled={disabled}
      data-testid="artifact-url-picker"
    />
  );
}
