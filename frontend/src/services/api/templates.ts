// Job templates of the operator API (AWS IoT job templates): the schema's shapes under short names (the
// templates screens call the typed client, openapi.ts).

import type { Schemas } from "./types";

export type Template = Schemas["TemplateOut"];
export type TemplateCreate = Schemas["TemplateCreate"];
export type TemplatePage = Schemas["TemplatePage"];
