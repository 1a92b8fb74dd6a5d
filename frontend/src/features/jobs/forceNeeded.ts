// A delete refused for want of "force" (the API's 409 with `reason: "not_forced"`), told apart from other errors.

import { ApiError } from "../../services/api/client";

export function needsForce(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409 && error.body?.reason === "not_forced";
}
