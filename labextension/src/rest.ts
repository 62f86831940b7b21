import { requestAPI } from './handler';

/** A path segment or query value, escaped. */
export function q(value: string | number): string {
  return encodeURIComponent(String(value));
}

/** A JSON request with a body (POST unless `method` says otherwise). */
export function post<T>(path: string, body: unknown = {}, method = 'POST'): Promise<T> {
  return requestAPI<T>(path, { method, body: JSON.stringify(body) });
}
