// Searchable pickers for a job's target: one active device, or a group (server-side search).

import { Select } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData } from "@tanstack/react-query";
import { useState } from "react";

import { $api } from "../../services/api/openapi";
import { errorText } from "../common/format";

interface PickerProps {
  value: string;
  onChange: (value: string) => void;
  error?: string;
}

export function DevicePicker({ value, onChange, error }: PickerProps) {
  const [search, setSearch] = useState(value);
  const [q] = useDebouncedValue(search === value ? "" : search.trim(), 250);
  const listParams = { q: q || undefined, status: "ACTIVE" as const, limit: 20 };
  const devices = $api.useQuery("get", "/customer/devices", { params: { query: listParams } }, { placeholderData: keepPreviousData });
  const options = (devices.data?.devices ?? []).map((d) => ({
    value: d.device_id,
    label: d.name && d.name !== d.device_id ? `${d.device_id} · ${d.name}` : d.device_id,
  }));
  if (value && !options.some((o) => o.value === value)) options.unshift({ value, label: value });
  return (
    <Select
      label="Device"
      placeholder="Search active devices"
      searchable
      data={options}
      value={value || null}
      onChange={(v) => onChange(v ?? "")}
      searchValue={search}
      onSearchChange={setSearch}
      nothingFoundMessage={devices.isFetching ? "Searching…" : "No active device matches"}
      error={error ?? (devices.error ? `cannot list devices: ${errorText(devices.error)}` : undefined)}
      data-testid="device-picker"
      comboboxProps={{ withinPortal: true }}
    />
  );
}

export function GroupPicker({ value, onChange, error }: PickerProps) {
  const [search, setSearch] = useState("");
  const [q] = useDebouncedValue(search.trim(), 250);
  const listParams = { q: q || undefined, limit: 50 };
  const groups = $api.useQuery("get", "/customer/groups", { params: { query: listParams } }, { placeholderData: keepPreviousData });
  const options = (groups.data?.groups ?? []).map((g) => ({
    value: g.group_id,
    label: `${g.name} (${g.member_count} devices)`,
  }));
  if (value && !options.some((o) => o.value === value)) options.unshift({ value, label: value });
  return (
    <Select
      label="Group"
      placeholder="Search groups"
      searchable
      data={options}
      value={value || null}
      onChange={(v) => onChange(v ?? "")}
      onSearchChange={setSearch}
      nothingFoundMessage={groups.isFetching ? "Searching…" : "No group matches"}
      error={error ?? (groups.error ? `cannot list groups: ${errorText(groups.error)}` : undefined)}
      data-testid="group-picker"
    />
  );
}
