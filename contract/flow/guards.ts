// Runtime checks for what the generated types cannot carry: an SSE `data` field. The spec types the
// stream as `text/event-stream: {type: string}`; the event shape is only in the `x-item-schema`
// extension, which neither generator reads. So the JSON is checked here instead of cast.
import type { components } from "../generated/openapi-typescript/schema";

type ActivityRead = components["schemas"]["ActivityRead"];
export type ActivityVerb = components["schemas"]["ActivityVerb"];

/** Every ActivityVerb, once: a verb added to or removed from the contract fails to compile here. */
const VERB_SET: Record<ActivityVerb, true> = {
  "project.created": true,
  "project.updated": true,
  "project.archived": true,
  "project.restored": true,
  "member.added": true,
  "member.updated": true,
  "member.removed": true,
  "task.created": true,
  "task.updated": true,
  "task.deleted": true,
  "task.restored": true,
  "comment.created": true,
  "comment.updated": true,
  "comment.deleted": true,
  "relation.created": true,
  "relation.deleted": true,
  "label.created": true,
  "label.updated": true,
  "label.deleted": true,
  "attachment.added": true,
  "attachment.deleted": true,
  "webhook.disabled": true,
};

export const ACTIVITY_VERBS: readonly string[] = Object.keys(VERB_SET);

export function isActivityVerb(value: unknown): value is ActivityVerb {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(VERB_SET, value);
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSummary(value: unknown): value is { id: string; display_name: string } {
  return isObject(value) && "id" in value && typeof value.id === "string" && "display_name" in value && typeof value.display_name === "string";
}

function isTarget(value: unknown): value is ActivityRead["target"] {
  if (!isObject(value) || !("id" in value) || typeof value.id !== "string" || !("type" in value) || typeof value.type !== "string") return false;
  return !("key" in value) || value.key === null || typeof value.key === "string";
}

/** Each change an `[old, new]` pair (the element types per field are not checked here). */
function isChanges(value: unknown): value is ActivityRead["changes"] {
  return isObject(value) && Object.values(value).every((v) => Array.isArray(v) && v.length === 2);
}

export function isActivityRead(value: unknown): value is ActivityRead {
  return (
    isObject(value) &&
    "id" in value &&
    typeof value.id === "string" &&
    "project_id" in value &&
    typeof value.project_id === "string" &&
    "task_id" in value &&
    (value.task_id === null || typeof value.task_id === "string") &&
    "actor" in value &&
    isSummary(value.actor) &&
    "verb" in value &&
    isActivityVerb(value.verb) &&
    "target" in value &&
    isTarget(value.target) &&
    "changes" in value &&
    isChanges(value.changes) &&
    "created_at" in value &&
    typeof value.created_at === "string"
  );
}
