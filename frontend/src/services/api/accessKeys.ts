// AWS access keys for boto3 against the AWS-compatible API (docs/aws-compat.md): the secret is shown once.

import { request } from "./client";
import type { Schemas } from "./types";

export type AccessKey = Schemas["AccessKeyOut"];
export type AccessKeyCreated = Schemas["AccessKeyCreated"];

export function listAccessKeys(signal?: AbortSignal): Promise<Schemas["AccessKeyList"]> {
  return request("/customer/access-keys", { signal });
}

export function createAccessKey(): Promise<AccessKeyCreated> {
  return request("/customer/access-keys", { method: "POST" });
}

export function revokeAccessKey(accessKeyId: string): Promise<AccessKey> {
  return request(`/customer/access-keys/${encodeURIComponent(accessKeyId)}/revoke`, { method: "POST" });
}
