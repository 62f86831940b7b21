import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { Signal } from '@lumino/signaling';

import {
  INotebookStep,
  IPipeline,
  IProject,
  IRun,
  IRunList,
  IRunRequest,
  IStepDeclaration
} from './types';

/** Base of the REST API, relative to the server's base URL. */
export const API_BASE = 'mlprod/api/v1';

/**
 * An error answered by the server (or the network), carrying the
 * contract's `{"error": {"code", "message", "field"}}` fields.
 */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | null = null,
    readonly field: string | null = null
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Text of any thrown value, for display. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  return String(err);
}

type Body = 'json' | 'text';

/**
 * Call the mlprod REST API (the extension-template `requestAPI` pattern).
 *
 * @param endPoint path below `mlprod/api/v1/`, may include a query string
 * @param init fetch options
 * @param as how to read a successful body
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  as: Body = 'json'
): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, API_BASE, endPoint);
  if (init.body !== undefined && !init.headers) {
    init = { ...init, headers: { 'Content-Type': 'application/json' } };
  }

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  const text = await response.text();
  if (!response.ok) {
    throw parseError(response.status, text);
  }
  if (as === 'text') {
    return text as unknown as T;
  }
  if (text.length === 0) {
    return undefined as unknown as T;
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new ApiError(`Invalid JSON from the server: ${text}`, 500);
  }
}

function parseError(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text);
    const err = body?.error;
    if (err && typeof err.message === 'string') {
      return new ApiError(
        err.message,
        status,
        err.code ?? null,
        err.field ?? null
      );
    }
    if (typeof body?.message === 'string') {
      // jupyter_server's own error format (e.g. 403 from auth).
      return new ApiError(body.message, status);
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiError(
    text.trim() || `Request failed with status ${status}`,
    status
  );
}

function q(value: string): string {
  return encodeURIComponent(value);
}

/** Emitted after a change made from the panel (tagging, a new run). */
export const changed = new Signal<object, string>({});

/** The typed calls the panel makes; one line each, no rules. */
export const api = {
  project: () => requestAPI<IProject>('project'),

  pipeline: () => requestAPI<IPipeline>('pipeline'),

  getStep: (path: string) =>
    requestAPI<INotebookStep>(`notebooks/step?path=${q(path)}`),

  putStep: (path: string, step: IStepDeclaration) =>
    requestAPI<INotebookStep>(`notebooks/step?path=${q(path)}`, {
      method: 'PUT',
      body: JSON.stringify(step)
    }),

  deleteStep: (path: string) =>
    requestAPI<void>(`notebooks/step?path=${q(path)}`, { method: 'DELETE' }),

  startRun: (request: IRunRequest) =>
    requestAPI<IRun>('runs', {
      method: 'POST',
      body: JSON.stringify(request)
    }),

  listRuns: (limit = 50, offset = 0) =>
    requestAPI<IRunList>(`runs?limit=${limit}&offset=${offset}`),

  getRun: (id: number | string) => requestAPI<IRun>(`runs/${q(String(id))}`),

  resumeRun: (id: number | string) =>
    requestAPI<IRun>(`runs/${q(String(id))}/resume`, {
      method: 'POST',
      body: '{}'
    }),

  cancelRun: (id: number | string) =>
    requestAPI<IRun>(`runs/${q(String(id))}/cancel`, {
      method: 'POST',
      body: '{}'
    }),

  outputHtml: (id: number | string, step: string) =>
    requestAPI<string>(
      `runs/${q(String(id))}/steps/${q(step)}/notebook?format=html`,
      {},
      'text'
    ),

  stepLog: (id: number | string, step: string) =>
    requestAPI<string>(`runs/${q(String(id))}/steps/${q(step)}/log`, {}, 'text')
};
