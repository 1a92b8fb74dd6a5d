import { Badge, Group } from "@mantine/core";

import { isOnline, type Device } from "../../services/api/devices";

/** ACTIVE / REVOKED, and online / offline derived from last_seen_at. */
export function DeviceStatusBadges({ device }: { device: Pick<Device, "status" | "last_seen_at"> }) {
  const online = isOnline(device);
  return (
    <Group gap={4} wrap="nowrap">
      {device.status === "REVOKED" ? (
        <Badge color="red" variant="light">
          REVOKED
        </Badge>
      ) : (
        <Badge color={online ? "teal" : "gray"} variant="dot" data-presence={online ? "online" : "offline"}>
          {online ? "online" : "offline"}
        </Badge>
      )}
    </Group>
  );
}
