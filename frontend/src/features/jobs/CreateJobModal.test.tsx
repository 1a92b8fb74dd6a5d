import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { ApiError } from "../../services/api/client";
import type { Job, JobCreate } from "../../services/api/jobs";
import { CreateJobModal } from "./CreateJobModal";

const createdJob = { job_id: "j-1" } as Job;

function setup(submit: (body: JobCreate) => Promise<Job>) {
  const onCreated = vi.fn();
  const onClose = vi.fn();
  render(
    <CreateJobModal
      initialTarget={{ type: "device", id: "dev-7" }}
      onClose={onClose}
      onCreated={onCreated}
      submit={submit}
    />,
  );
  return { onCreated, onClose, user: userEvent.setup() };
}

describe("CreateJobModal", () => {
  it("sends the job for the device it was opened on, with the preset params of a known type", async () => {
    const submit = vi.fn(async () => createdJob);
    const { user, onCreated } = setup(submit);
    expect(screen.getByRole("dialog", { name: "Create job" })).toBeInTheDocument();
    expect(screen.getByLabelText("Device ID")).toHaveValue("dev-7");
    await user.type(screen.getByLabelText("Document type"), "reboot");
    expect(screen.getByLabelText("Parameters (JSON object)")).toHaveValue('{"delay_s": 5}');
    await user.type(screen.getByLabelText("Expires in (hours)"), "2");
    await user.click(screen.getByRole("button", { name: "Create job" }));
    expect(submit).toHaveBeenCalledWith({
      document_type: "reboot",
      document_params: { delay_s: 5 },
      target_device_id: "dev-7",
      expires_in_hours: 2,
    });
    expect(onCreated).toHaveBeenCalledWith(createdJob);
  });

  it("shows field errors and sends nothing when the params are not a JSON object", async () => {
    const submit = vi.fn(async () => createdJob);
    const { user } = setup(submit);
    await user.type(screen.getByLabelText("Document type"), "custom");
    const params = screen.getByLabelText("Parameters (JSON object)");
    await user.clear(params);
    await user.type(params, "[[1]");
    await user.click(screen.getByRole("button", { name: "Create job" }));
    expect(submit).not.toHaveBeenCalled();
    expect(params).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByText("must be a JSON object, like {\"delay_s\": 5}")).toBeInTheDocument();
  });

  it("requires a document type", async () => {
    const submit = vi.fn(async () => createdJob);
    const { user } = setup(submit);
    await user.click(screen.getByRole("button", { name: "Create job" }));
    expect(submit).not.toHaveBeenCalled();
    expect(screen.getByText("required, e.g. reboot")).toBeInTheDocument();
  });

  it("shows the API's refusal and stays open", async () => {
    const submit = vi.fn(async () => {
      throw new ApiError(409, "conflict", "device 'dev-7' is REVOKED; it cannot run jobs");
    });
    const { user, onCreated } = setup(submit);
    await user.type(screen.getByLabelText("Document type"), "reboot");
    await user.click(screen.getByRole("button", { name: "Create job" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("device 'dev-7' is REVOKED; it cannot run jobs");
    expect(onCreated).not.toHaveBeenCalled();
    expect(screen.getByRole("dialog")).toBeInTheDocument();
  });

  it("closes on Escape and on Cancel", async () => {
    const { user, onClose } = setup(vi.fn(async () => createdJob));
    await user.keyboard("{Escape}");
    await user.click(screen.getByRole("button", { name: "Cancel" }));
    expect(onClose).toHaveBeenCalledTimes(2);
  });
});
