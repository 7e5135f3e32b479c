// Lambda entry point: calls the private API named by XAPI_API_URL with the execution role's credentials.
import { ApiCallError, PrivateApiClient, envCredentials } from './client.js';

interface CallEvent {
  method?: string;
  path?: string;
  body?: unknown;
  query?: Record<string, string>;
}

export async function handler(event: CallEvent = {}): Promise<{ statusCode: number; body: string }> {
  const apiUrl = process.env.XAPI_API_URL;
  if (!apiUrl) throw new Error('XAPI_API_URL is not set');
  const client = new PrivateApiClient(
    { apiUrl, ...(process.env.XAPI_API_ID && { apiId: process.env.XAPI_API_ID }), region: process.env.AWS_REGION, timeoutMs: Number(process.env.XAPI_TIMEOUT_MS ?? 5000) },
    {
      fetch,
      now: () => new Date(),
      credentials: () => envCredentials(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      random: Math.random,
    },
  );
  try {
    const body = event.body === undefined ? undefined : JSON.stringify(event.body);
    const res = await client.call(event.method ?? 'GET', event.path ?? '/', body, event.query ?? {});
    return { statusCode: res.status, body: res.body };
  } catch (e) {
    if (e instanceof ApiCallError) {
      return { statusCode: e.status ?? 502, body: JSON.stringify({ kind: e.kind, errorType: e.errorType, message: e.message }) };
    }
    throw e;
  }
}
