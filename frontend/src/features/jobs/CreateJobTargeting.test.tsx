import { render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { MantineProvider } from "@mantine/core";
import { describe, expect, it, vi } from "vitest";

import { fakeApi, renderWithProviders, type Call } from "../../test/render";
import { CreateJobModal } from "./CreateJobModal";
import { ContinuousBadge } from "./TargetSelection";

const groups = (): [number, unknown] => [200, { groups: [], total: 0, limit: 50, offset: 0 }];
const lab = (): [number, unknown] => [
  200,
  { group_id: "lab", name: "Lab", description: "", member_count: 0, members: [], created_at: "2024-01-01T00:00:00Z" },
];
const noArtifacts = (): [number, unknown] => [200, { artifacts: [], total: 0, limit: 100, offset: 0 }];
const job = (call: Call): [number, unknown] => [201, { job_id: "j-1", execution_count: 0, ...(call.body as object) }];

function open(initialTarget: Parameters<typeof CreateJobModal>[0]["initialTarget"]) {
  const onCreated = vi.fn();
  renderWithProviders(<CreateJobModal opened initialTarget={initialTarget} onClose={vi.fn()} onCreated={onCreated} />);
  return onCreated;
}

async function typeDocument(user: ReturnType<typeof userEvent.setup>, text: string) {
  const box = screen.getByRole("combobox", { name: "Document type" });
  await user.click(box);
  await user.paste(text);
}

describe("Create Job's target selection", () => {
  it("offers Snapshot / Continuous for a group, explains it, and sends CONTINUOUS", async () => {
    const calls = fakeApi({ "GET /customer/groups": groups, "GET /customer/groups/lab": lab, "GET /customer/artifacts": noArtifacts, "POST /customer/jobs": job });
    const user = userEvent.setup();
    const onCreated = open({ type: "group", id: "lab" });
    expect(screen.getByText("Target selection")).toBeInTheDocument();
    expect(screen.getByTestId("target-selection-help")).toHaveTextContent("devices that join the group later get nothing");
    await waitFor(() => expect(screen.getByTestId("job-reach")).toHaveTextContent("completes at once"));

    await user.click(screen.getByText("Continuous"));
    expect(screen.getByTestId("target-selection-help")).toHaveTextContent(
      "Devices that join the group later get the job too; it runs until canceled.",
    );
    // an empty group is fine for a continuous job: it waits for devices to join
    expect(screen.getByTestId("job-reach")).toHaveTextContent("This job will reach 0 devices.");
    expect(screen.getByTestId("job-reach")).not.toHaveTextContent("completes at once");

    await typeDocument(user, "firmware_update");
    await user.click(screen.getByRole("button", { name: "Create job" }));
    await waitFor(() => expect(onCreated).toHaveBeenCalledOnce());
    expect(calls.find((c) => c.method === "POST")?.body).toMatchObject({ target_group_id: "lab", target_selection: "CONTINUOUS" });
  });

  it("offers it for the whole fleet, not for one device (which never sends it)", async () => {
    const calls = fakeApi({
      "GET /customer/devices": () => [200, { devices: [], total: 3, limit: 20, offset: 0 }],
      "GET /customer/artifacts": noArtifacts,
      "POST /customer/jobs": job,
    });
    const user = userEvent.setup();
    const onCreated = open({ type: "device", id: "dev-1" });
    expect(screen.queryByText("Target selection")).not.toBeInTheDocument();
    await user.click(screen.getByText("Whole fleet"));
    expect(screen.getByText("Target selection")).toBeInTheDocument();
    await user.click(screen.getByText("Continuous"));
    await user.click(screen.getByText("One device")); // back to one device: continuous no longer applies
    expect(screen.queryByText("Target selection")).not.toBeInTheDocument();
    await typeDocument(user, "reboot");
    await user.click(screen.getByRole("button", { name: "Create job" }));
    await waitFor(() => expect(onCreated).toHaveBeenCalledOnce());
    const body = calls.find((c) => c.method === "POST")?.body;
    expect(body).toMatchObject({ target_device_id: "dev-1" });
    expect(body).not.toHaveProperty("target_selection");
  });

  it("points the parameters' url at an uploaded artifact", async () => {
    fakeApi({
      "GET /customer/devices": () => [200, { devices: [], total: 1, limit: 20, offset: 0 }],
      "GET /customer/artifacts": () => [
        200,
        {
          artifacts: [{ name: "fw-2.1.bin", sha256: "ab".repeat(32), size: 2048, content_type: "application/octet-stream", created_by: null, created_at: "2024-05-01T12:00:00Z" }],
          total: 1,
          limit: 100,
          offset: 0,
        },
      ],
    });
    const user = userEvent.setup();
    open({ type: "device", id: "dev-1" });
    await typeDocument(user, "firmware_update");
    await user.click(await screen.findByRole("combobox", { name: "Artifact URL (optional)" }));
    await user.click(await screen.findByRole("option", { name: "fw-2.1.bin (2.0 KiB)" }));
    expect(JSON.parse((screen.getByLabelText("Parameters (JSON)") as HTMLTextAreaElement).value)).toEqual({
      version: "1.2.3",
      url: "${iotcloud:artifact-url:fw-2.1.bin}",
    });
  });
});

describe("ContinuousBadge", () => {
  it("tags a continuous job and nothing else", () => {
    const { rerender } = render(
      <MantineProvider env="test">
        <ContinuousBadge job={{ target_selection: "CONTINUOUS" }} />
      </MantineProvider>,
    );
    expect(screen.getByTestId("continuous-badge")).toHaveTextContent("Continuous");
    rerender(
      <MantineProvider env="test">
        <ContinuousBadge job={{ target_selection: "SNAPSHOT" }} />
      </MantineProvider>,
    );
    expect(screen.queryByTestId("continuous-badge")).not.toBeInTheDocument();
  });
});
