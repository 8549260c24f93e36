// Calls the app's tRPC HTTP API from Playwright tests (superjson envelope).
import type { APIRequestContext } from "@playwright/test";
import { e2eBaseURL } from "./accounts";

export async function trpcMutation<T>(request: APIRequestContext, path: string, input: unknown): Promise<T> {
  const res = await request.post(`/api/trpc/${path}`, { data: { json: input }, headers: { origin: e2eBaseURL() } });
  const body = (await res.json()) as { result?: { data: { json: T } }; error?: { json: { message: string } } };
  if (!res.ok() || !body.result) throw new Error(`${path} failed (${res.status()}): ${body.error?.json.message ?? JSON.stringify(body)}`);
  return body.result.data.json;
}

export async function trpcQuery<T>(request: APIRequestContext, path: string, input?: unknown): Promise<T> {
  const qs = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
  const res = await request.get(`/api/trpc/${path}${qs}`);
  const body = (await res.json()) as { result?: { data: { json: T } }; error?: { json: { message: string } } };
  if (!res.ok() || !body.result) throw new Error(`${path} failed (${res.status()}): ${body.error?.json.message ?? JSON.stringify(body)}`);
  return body.result.data.json;
}
