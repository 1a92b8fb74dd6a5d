// Shapes of the operator API, generated from its OpenAPI spec (npm run gen:api → schema.ts).

import type { components } from "./schema";

export type Schemas = components["schemas"];
