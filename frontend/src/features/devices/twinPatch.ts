// The twin API takes an RFC 7386 merge patch; the console edits the whole desired document instead.

type JsonObject = Record<string, unknown>;

const isObject = (v: unknown): v is JsonObject => v !== null && typeof v === "object" && !Array.isArray(v);

/** The merge patch that turns `from` into `to` (removed keys become null). */
export function mergePatchFrom(from: JsonObject, to: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(from)) {
    if (!(key in to)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(to)) {
    const old = from[key];
    if (isObject(old) && isObject(value)) {
      const inner = mergePatchFrom(old, value);
      if (Object.keys(inner).length) patch[key] = inner;
    } else if (JSON.stringify(old) !== JSON.stringify(value)) {
      patch[key] = value;
    }
  }
  return patch;
}

/** Parses the desired-state editor's text: a JSON object without nulls (null would mean "delete"). */
export function parseDesired(text: string): { value?: JsonObject; error?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text.trim() || "{}");
  } catch (err) {
    return { error: `not valid JSON: ${(err as Error).message}` };
  }
  if (!isObject(value)) return { error: "desired state must be a JSON object" };
  if (JSON.stringify(value).includes(":null")) return { error: "null values are not allowed (remove the key instead)" };
  return { value };
}
