import { readFileSync } from "node:fs";
import { resolve } from "node:path";

import { describe, expect, it } from "vitest";

import { DEVICE_STATUSES, EXECUTION_STATUSES, JOB_STATUSES, countKey, isJobLive, isOpenExecution, statusFrom } from "./statuses";

interface Spec {
  components: { schemas: Record<string, { properties: Record<string, { enum?: string[] }> }> };
}
const spec = JSON.parse(readFileSync(resolve(__dirname, "../../../openapi.json"), "utf8")) as Spec;
const specEnum = (schema: string, property: string) => spec.components.schemas[schema]?.properties[property]?.enum;

describe("statuses", () => {
  it("are the enums of the committed OpenAPI spec", () => {
    expect(JOB_STATUSES).toEqual(specEnum("JobOut", "status"));
    expect(EXECUTION_STATUSES).toEqual(specEnum("ExecutionOut", "status"));
    expect(DEVICE_STATUSES).toEqual(specEnum("DeviceOut", "status"));
  });

  it("tell open executions and live jobs from final ones", () => {
    expect(EXECUTION_STATUSES.filter(isOpenExecution)).toEqual(["QUEUED", "IN_PROGRESS"]);
    expect(JOB_STATUSES.filter(isJobLive)).toEqual(["SCHEDULED", "IN_PROGRESS"]);
    expect(EXECUTION_STATUSES.map(countKey)).toEqual([
      "queued",
      "in_progress",
      "succeeded",
      "failed",
      "timed_out",
      "rejected",
      "canceled",
      "removed",
    ]);
  });

  it("accept only known statuses from outside text", () => {
    expect(statusFrom(JOB_STATUSES, "CANCELED")).toBe("CANCELED");
    expect(statusFrom(JOB_STATUSES, "QUEUED")).toBeUndefined();
    expect(statusFrom(JOB_STATUSES, "canceled")).toBeUndefined();
    expect(statusFrom(JOB_STATUSES, null)).toBeUndefined();
  });
});
