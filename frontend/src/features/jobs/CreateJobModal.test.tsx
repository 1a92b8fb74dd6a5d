import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeApi, renderWithProviders, type Call } from "../../test/render";
import { CreateJobModal } from "./CreateJobModal";

const noDevices = (): [number, unknown] => [200, { devices: [], total: 0, limit: 20, offset: 0 }];
const job = (call: Call): [number, unknown] => [201, { job_id: "j-1", execution_count: 1, ...(call.body as object) }];

/** Replaces a field's text the way a paste does (typing char by char is slow under jsdom). */
async function fill(user: ReturnType<typeof userEvent.setup>, el: HTMLElement, text: string) {
  await user.clear(el);
  await user.click(el);
  await user.paste(text);
}

function open(props: Partial<Parameters<typeof CreateJobModal>[0]> = {}) {
  const onCreated = vi.fn();
  const onClose = vi.fn();
  renderWithProviders(
    <CreateJobModal opened initialTarget={{ type: "device", id: "dev-1" }} onClose={onClose} onCreated={onCreated} {...props} />,
  );
  return { onCreated, onClose };
}

const paramsBox = () => screen.getByLabelText("Parameters (JSON)");
const docType = () => screen.getByRole("combobox", { name: "Document type" });
const submit = () => screen.getByRole("button", { name: "Create job" });

describe("CreateJobModal", () => {
  it("validates the params JSON as you type and blocks submit while invalid", async () => {
    const calls = fakeApi({ "GET /customer/devices": noDevices });
    const user = userEvent.setup();
    open();
    await fill(user, paramsBox(), '{"delay_s": ');
    expect(await screen.findByText(/^not valid JSON/)).toBeInTheDocument();
    expect(submit()).toBeDisabled();

    await fill(user, paramsBox(), "[1]");
    expect(screen.getByText(/must be a JSON object/)).toBeInTheDocument();

    await fill(user, paramsBox(), '{"delay_s": 5}');
    expect(screen.queryByText(/not valid JSON|must be a JSON object/)).not.toBeInTheDocument();
    expect(submit()).toBeEnabled();
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });

  it("requires a document type and a sane expiry before sending anything", async () => {
    const calls = fakeApi({ "GET /customer/devices": noDevices, "POST /customer/jobs": job });
    const user = userEvent.setup();
    open();
    await fill(user, screen.getByLabelText("Expires in (hours)"), "-2");
    await user.click(submit());
    expect(await screen.findByText("required, e.g. reboot")).toBeInTheDocument();
    expect(screen.getByText(/a number of hours above 0/)).toBeInTheDocument();
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);
  });

  it("shows the reach of a preselected device, fills reboot params and sends exactly one target", async () => {
    const calls = fakeApi({ "GET /customer/devices": noDevices, "POST /customer/jobs": job });
    const user = userEvent.setup();
    const { onCreated } = open();
    expect(screen.getByTestId("job-reach")).toHaveTextContent("This job will reach 1 device.");
    await fill(user, docType(), "reboot");
    expect(paramsBox()).toHaveValue('{\n  "delay_s": 5\n}');
    await fill(user, screen.getByLabelText("Expires in (hours)"), "1.5");
    await fill(user, screen.getByLabelText("In-progress timeout (minutes)"), "30");
    await user.click(submit());
    await waitFor(() => expect(onCreated).toHaveBeenCalledOnce());
    const post = calls.find((c) => c.method === "POST");
    expect(post?.body).toEqual({
      document_type: "reboot",
      document_params: { delay_s: 5 },
      target_all: false,
      target_device_id: "dev-1",
      expires_in_hours: 1.5,
      in_progress_timeout_minutes: 30,
    });
  });

  it("counts the whole fleet's active devices before submit", async () => {
    const calls = fakeApi({
      "GET /customer/devices": (c) =>
        c.path.includes("limit=1&") || c.path.endsWith("limit=1") ? [200, { devices: [], total: 7, limit: 1, offset: 0 }] : noDevices(),
    });
    const user = userEvent.setup();
    open({ initialTarget: undefined });
    expect(screen.getByTestId("job-reach")).toHaveTextContent("Choose a device");
    await user.click(screen.getByText("Whole fleet"));
    await waitFor(() => expect(screen.getByTestId("job-reach")).toHaveTextContent("This job will reach 7 devices."));
    expect(calls.some((c) => c.path === "/customer/devices?status=ACTIVE&limit=1")).toBe(true);
  });

  it("shows a group's member count and the API's refusal inline", async () => {
    fakeApi({
      "GET /customer/groups": () => [200, { groups: [], total: 0, limit: 50, offset: 0 }],
      "GET /customer/groups/lab": () => [
        200,
        { group_id: "lab", name: "Lab", description: "", member_count: 3, members: [], created_at: "2024-01-01T00:00:00Z" },
      ],
      "POST /customer/jobs": () => [409, { error: "conflict", detail: "job 'dup' already exists" }],
    });
    const user = userEvent.setup();
    const { onCreated } = open({ initialTarget: { type: "group", id: "lab" } });
    await waitFor(() => expect(screen.getByTestId("job-reach")).toHaveTextContent("This job will reach 3 devices."));
    await fill(user, docType(), "update_config");
    await fill(user, screen.getByLabelText("Job ID (optional)"), "dup");
    await user.click(submit());
    expect(await screen.findByTestId("create-job-error")).toHaveTextContent("job 'dup' already exists");
    expect(onCreated).not.toHaveBeenCalled();
  });
});
