// Device groups (static membership) on the operator API: the schema's types. Pages call the API through
// `$api` / `fetchClient` (openapi.ts).

import type { Schemas } from "./types";

export type Group = Schemas["GroupOut"];
export type GroupDetail = Schemas["GroupDetail"];
export type GroupList = Schemas["GroupList"];
export type GroupMember = Schemas["MemberOut"];

