// The openapi-fetch client on the openapi-typescript types, as a frontend would set it up.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "../generated/openapi-typescript/schema";
import { check, fail } from "./check";

export type Schemas = components["schemas"];
export type Api = Client<paths>;

export interface Session {
  access: string;
  refresh: string;
}

/** A client that sends the session's current access token (if any) on every request. */
export function apiClient(baseUrl: string, session?: { current: Session | undefined }, observe?: Middleware): Api {
  const client = createClient<paths>({ baseUrl });
  if (observe !== undefined) client.use(observe);
  if (session !== undefined) {
    const auth: Middleware = {
      onRequest({ request }) {
        if (session.current !== undefined) request.headers.set("Authorization", `Bearer ${session.current.access}`);
        return request;
      },
    };
    client.use(auth);
  }
  return client;
}

/** What openapi-fetch answers: data on 2xx, error otherwise, and the raw response always. */
type Answer<D, E> = { data: D; error?: never; response: Response } | { data?: never; error: E; response: Response };

/** The data of a successful answer with exactly this status, or a failed check showing what came instead. */
export async function expectStatus<D, E>(what: string, status: number, pending: Promise<Answer<D, E>>): Promise<{ data: D; response: Response }> {
  const answer = await pending;
  if (answer.response.status === status && answer.data !== undefined) return { data: answer.data, response: answer.response };
  return fail(`${what}: HTTP status`, status, { status: answer.response.status, body: answer.error ?? answer.data });
}

/** A 204 (or another bodiless success). */
export async function expectEmpty<D, E>(what: string, status: number, pending: Promise<Answer<D, E>>): Promise<Response> {
  const answer = await pending;
  if (answer.response.status === status && answer.error === undefined) return answer.response;
  return fail(`${what}: HTTP status`, status, { status: answer.response.status, body: answer.error });
}

/** The error body of a failed answer with exactly this status. */
export async function expectError<D, E>(what: string, status: number, pending: Promise<Answer<D, E>>): Promise<{ error: E; response: Response }> {
  const answer = await pending;
  if (answer.response.status === status && answer.error !== undefined) return { error: answer.error, response: answer.response };
  return fail(`${what}: HTTP status`, status, { status: answer.response.status, body: answer.data ?? answer.error });
}

export function header(what: string, response: Response, name: string): string {
  const value = response.headers.get(name);
  check(value !== null && value !== "", `${what}: response header ${name}`, "present", value);
  return value;
}
