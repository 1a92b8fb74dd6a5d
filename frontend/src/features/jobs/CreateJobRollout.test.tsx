import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeApi, renderWithProviders, type Call } from "../../test/render";
import { CreateJobModal } from "./CreateJobModal";

const noDevices = (): [number, unknown] => [200, { devices: [], total: 0, limit: 20, offset: 0 }];
const job = (call: Call): [number, unknown] => [201, { job_id: "j-1", execution_count: 1, ...(call.body as object) }];

type User = ReturnType<typeof userEvent.setup>;

async function fill(user: User, el: HTMLElement, text: string) {
  await user.clear(el);
  await user.click(el);
  await user.paste(text);
}

function open() {
  const onCreated = vi.fn();
  renderWithProviders(<CreateJobModal opened initialTarget={{ type: "device", id: "dev-1" }} onClose={vi.fn()} onCreated={onCreated} />);
  return onCreated;
}

const summary = () => screen.getByTestId("rollout-summary");
const submit = () => screen.getByRole("button", { name: "Create job" });
/** Opens a collapsed section and waits for its panel to show. */
async function section(user: User, name: string) {
  const control = screen.getByRole("button", { name: `${name} section` });
  await user.click(control);
  const panel = document.getElementById(control.getAttribute("aria-controls") ?? "");
  await waitFor(() => expect(panel).toBeVisible());
}
const posts = (calls: Call[]) => calls.filter((c) => c.method === "POST");

describe("CreateJobModal rollout sections", () => {
  it("validates as you type, summarizes in plain words and sends only the filled sections", { timeout: 60_000 }, async () => {
    const calls = fakeApi({ "GET /customer/devices": noDevices, "POST /customer/jobs": job });
    const user = userEvent.setup();
    const onCreated = open();
    await fill(user, screen.getByRole("combobox", { name: "Document type" }), "firmware_update");
    expect(summary()).toHaveTextContent("Reaches every device at once.");

    await section(user, "Rollout");
    await fill(user, screen.getByLabelText("Maximum per minute"), "0");
    expect(screen.getByText("a whole number, 1 to 1,000,000")).toBeInTheDocument();
    expect(summary()).toHaveTextContent("Still to complete: rollout.");
    await fill(user, screen.getByLabelText("Maximum per minute"), "30");
    expect(screen.queryByText("a whole number, 1 to 1,000,000")).not.toBeInTheDocument();
    expect(summary()).toHaveTextContent(/^Reaches 30 devices a minute\.$/);

    await section(user, "Abort");
    await user.click(screen.getByRole("button", { name: "Add abort criterion" }));
    const criterion = within(screen.getByTestId("abort-criterion"));
    await fill(user, criterion.getByLabelText("Threshold %"), "120");
    expect(criterion.getByText("a percentage 0 to 100")).toBeInTheDocument();
    await fill(user, criterion.getByLabelText("Threshold %"), "20");
    await fill(user, criterion.getByLabelText("Minimum executed"), "5");

    await section(user, "Retries");
    await user.click(screen.getByRole("button", { name: "Add retry" }));
    await fill(user, within(screen.getByTestId("retry-criterion")).getByLabelText(/^Retries/), "2");

    await section(user, "Schedule");
    await fill(user, screen.getByLabelText(/^Start time \(UTC\)/), "2099-01-01 02:00");
    await fill(user, screen.getByLabelText(/^End time \(UTC\)/), "2099-01-01 01:00");
    expect(screen.getByText("must be after the start time")).toBeInTheDocument();
    await fill(user, screen.getByLabelText(/^End time \(UTC\)/), "2099-01-01 06:00");
    await user.click(screen.getByRole("button", { name: "Add maintenance window" }));
    await fill(user, screen.getByLabelText("Window start (cron)"), "0 2 * *");
    expect(screen.getByText(/^5 fields/)).toBeInTheDocument();
    await fill(user, screen.getByLabelText("Window start (cron)"), "cron(0 2 ? * 1 *)");
    await fill(user, screen.getByLabelText(/^Duration \(minutes\)/), "240");

    expect(summary()).toHaveTextContent(
      "Reaches 30 devices a minute; stops if 20 % of at least 5 devices fail; retries failures twice; " +
        "starts 2099-01-01 02:00 UTC, stops the rollout at 06:00, reaches new devices only in its maintenance windows " +
        "(cron(0 2 ? * 1 *) for 240 min, UTC).",
    );
    await user.click(submit());
    await waitFor(() => expect(onCreated).toHaveBeenCalledOnce());
    expect(posts(calls)).toHaveLength(1);
    expect(posts(calls)[0]?.body).toEqual({
      document_type: "firmware_update",
      document_params: { version: "1.2.3", url: "https://example.com/fw.bin" },
      target_all: false,
      target_device_id: "dev-1",
      rollout_config: { maximum_per_minute: 30 },
      abort_config: {
        criteria_list: [{ failure_type: "FAILED", action: "CANCEL", threshold_percentage: 20, min_number_of_executed_things: 5 }],
      },
      retry_config: { criteria_list: [{ failure_type: "FAILED", number_of_retries: 2 }] },
      scheduling_config: {
        start_time: "2099-01-01T02:00:00Z",
        end_time: "2099-01-01T06:00:00Z",
        maintenance_windows: [{ start_time: "cron(0 2 ? * 1 *)", duration_in_minutes: 240 }],
      },
    });
  });

  it("names missing values only on submit and sends nothing until they are given", async () => {
    const calls = fakeApi({ "GET /customer/devices": noDevices, "POST /customer/jobs": job });
    const user = userEvent.setup();
    open();
    await fill(user, screen.getByRole("combobox", { name: "Document type" }), "reboot");
    await section(user, "Rollout");
    await user.click(screen.getByLabelText(/^Exponential rate/));
    expect(screen.queryByText("required")).not.toBeInTheDocument();
    await user.click(submit());
    expect(await screen.findAllByText("required")).toHaveLength(3);
    expect(screen.getByRole("button", { name: "Rollout section" })).toHaveTextContent("check");
    await fill(user, screen.getByLabelText("Base rate per minute"), "10");
    await fill(user, screen.getByLabelText(/^Increment factor/), "1.5");
    await user.click(screen.getByText("succeeded"));
    await fill(user, screen.getByLabelText("N devices"), "50");
    expect(summary()).toHaveTextContent(
      "Reaches 10 devices a minute at first, ×1.5 each time 50 more devices succeeded, up to 1,000,000 a minute.",
    );
    expect(posts(calls)).toHaveLength(0);
    await user.click(submit());
    await waitFor(() => expect(posts(calls)).toHaveLength(1));
    expect(posts(calls)[0]?.body).toMatchObject({
      rollout_config: {
        exponential_rate: { base_rate_per_minute: 10, increment_factor: 1.5, rate_increase_criteria: { number_of_succeeded_things: 50 } },
      },
    });
    expect(posts(calls)[0]?.body).not.toHaveProperty("abort_config");
    expect(posts(calls)[0]?.body).not.toHaveProperty("scheduling_config");
  });

  it("offers one criterion per failure type and shows the API's 422 message", async () => {
    const calls = fakeApi({
      "GET /customer/devices": noDevices,
      "POST /customer/jobs": () => [
        422,
        { error: "validation_error", detail: "scheduling_config.maintenance_windows.0.start_time: Value error, not a cron expression: '99 2 * * *'" },
      ],
    });
    const user = userEvent.setup();
    const onCreated = open();
    await fill(user, screen.getByRole("combobox", { name: "Document type" }), "reboot");
    await section(user, "Retries");
    const add = screen.getByRole("button", { name: "Add retry" });
    await user.click(add);
    await user.click(add);
    await user.click(add);
    expect(screen.getAllByTestId("retry-criterion")).toHaveLength(3);
    expect(screen.getAllByLabelText("Retry on").map((el) => (el as HTMLSelectElement).value)).toEqual(["FAILED", "TIMED_OUT", "ALL"]);
    expect(add).toBeDisabled();
    await user.selectOptions(screen.getAllByLabelText("Retry on")[2]!, "FAILED");
    expect(screen.getByText("one entry per failure type")).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Remove retry 3" }));
    await user.click(screen.getByRole("button", { name: "Remove retry 2" }));
    await fill(user, within(screen.getByTestId("retry-criterion")).getByLabelText(/^Retries/), "1");

    await section(user, "Schedule");
    await user.click(screen.getByRole("button", { name: "Add maintenance window" }));
    await fill(user, screen.getByLabelText("Window start (cron)"), "99 2 * * *");
    await fill(user, screen.getByLabelText(/^Duration \(minutes\)/), "60");
    await user.click(submit());
    expect(await screen.findByTestId("create-job-error")).toHaveTextContent("not a cron expression: '99 2 * * *'");
    expect(posts(calls)[0]?.body).toMatchObject({
      retry_config: { criteria_list: [{ failure_type: "FAILED", number_of_retries: 1 }] },
      scheduling_config: { maintenance_windows: [{ start_time: "99 2 * * *", duration_in_minutes: 60 }] },
    });
    expect(onCreated).not.toHaveBeenCalled();
  });
});
