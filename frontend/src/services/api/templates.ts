// Job templates of the operator API (AWS IoT job templates): create, list (keyset), read, delete.

import { request } from "./client";
import type { Schemas } from "./types";

export type Template = Schemas["TemplateOut"];
export type TemplateCreate = Schemas["TemplateCreate"];
export type TemplatePage = Schemas["TemplatePage"];
export type TemplateListParams = { limit?: number; after?: string };

const templatePath = (templateId: string) => `/customer/job-templates/${encodeURIComponent(templateId)}`;

export function listTemplates(params: TemplateListParams = {}, signal?: AbortSignal): Promise<TemplatePage> {
  return request("/customer/job-templates", { query: params, signal });
}

export function getTemplate(templateId: string, signal?: AbortSignal): Promise<Template> {
  return request(templatePath(templateId), { signal });
}

export function createTemplate(body: TemplateCreate): Promise<Template> {
  return request("/customer/job-templates", { method: "POST", json: body });
}

export function deleteTemplate(templateId: string): Promise<Template> {
  return request(templatePath(templateId), { method: "DELETE" });
}
