// One device: facts, token actions, twin, its job executions, and Create Job aimed at it.

import { Anchor, Button, Card, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";

import { useSession } from "../../app/SessionContext";
import { whenNotLive } from "../../app/live/liveState";
import { $api } from "../../services/api/openapi";
import { canWrite } from "../../services/api/session";
import { Fact } from "../common/Fact";
import { JsonBlock } from "../common/JsonBlock";
import { QueryState } from "../common/QueryState";
import { formatTime, timeAgo } from "../common/format";
import { CreateJobModal } from "../jobs/CreateJobModal";
import { DeviceActions } from "./DeviceActions";
import { DeviceJobsPanel } from "./DeviceJobsPanel";
import { DeviceStatusBadges } from "./DeviceStatusBadges";
import { TwinPanel } from "./TwinPanel";

export function DeviceDetailPage() {
  const { deviceId = "" } = useParams();
  const session = useSession();
  const navigate = useNavigate();
  const [creating, setCreating] = useState(false);
  const device = $api.useQuery(
    "get",
    "/customer/devices/{device_id}",
    { params: { path: { device_id: deviceId } } },
    { refetchInterval: whenNotLive(30_000) },
  );
  const writer = canWrite(session);

  return (
    <Stack gap="md">
      <Anchor component={Link} to="/devices" size="sm">
        ← Devices
      </Anchor>
      <QueryState what="device" data={device.data} error={device.error} onRetry={() => void device.refetch()}>
        {(d) => (
          <>
            <Group justify="space-between">
              <Group gap="sm">
                <Title order={2}>Device {d.device_id}</Title>
                <DeviceStatusBadges device={d} />
              </Group>
              {writer && (
                <Group gap="xs">
                  <Button onClick={() => setCreating(true)} disabled={d.status !== "ACTIVE"}>
                    Create job
                  </Button>
                  <DeviceActions device={d} />
                </Group>
              )}
            </Group>
            <Card withBorder>
              <SimpleGrid cols={{ base: 2, md: 4 }}>
                <Fact label="Name">{d.name || "—"}</Fact>
                <Fact label="Status">{d.status}</Fact>
                <Fact label="Last seen">
                  {timeAgo(d.last_seen_at)}
                  {d.last_seen_at ? ` (${formatTime(d.last_seen_at)})` : ""}
                </Fact>
                <Fact label="Created">{formatTime(d.created_at)}</Fact>
                <Fact label="MQTT thing name">{d.thing_name}</Fact>
                <Fact label="MQTT endpoint">
                  {d.mqtt.host}:{d.mqtt.port}
                </Fact>
              </SimpleGrid>
              <Text size="xs" c="dimmed" tt="uppercase" fw={600} mt="sm">
                Attributes
              </Text>
              <JsonBlock value={d.attributes} label="attributes" />
            </Card>
            <TwinPanel deviceId={d.device_id} editable={writer && d.status === "ACTIVE"} />
            <DeviceJobsPanel deviceId={d.device_id} />
            <CreateJobModal
              opened={creating}
              initialTarget={{ type: "device", id: d.device_id }}
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
