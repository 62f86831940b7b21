import { requestAPI } from './handler';
import { post, q } from './rest';
import {
  IEndpoint,
  IEndpointStats,
  IServerInfo,
  ITestResult,
  ITraffic
} from './types_endpoints';

/** The endpoint and server calls; one line each, no rules. */
export const endpointApi = {
  list: () =>
    requestAPI<{ endpoints: IEndpoint[] }>('endpoints').then(r => r.endpoints),
  get: (name: string) => requestAPI<IEndpoint>(`endpoints/${q(name)}`),
  create: (name: string, notebook: string) =>
    post<IEndpoint>('endpoints', { name, notebook }),
  /** "Serve this notebook": created (or updated), served and warm; `servers` has the URL. */
  serve: (name: string, notebook: string) =>
    post<IEndpoint>('endpoints', { name, notebook, serve: true }),
  setTraffic: (name: string, traffic: ITraffic) =>
    post<IEndpoint>(`endpoints/${q(name)}/traffic`, traffic, 'PUT'),
  test: (name: string, request: unknown) =>
    post<ITestResult>(`endpoints/${q(name)}/test`, { request }),
  stats: (name: string) =>
    requestAPI<IEndpointStats>(`endpoints/${q(name)}/stats`),
  servers: () =>
    requestAPI<{ servers: IServerInfo[] }>('servers').then(r => r.servers),
  startServer: (endpoints: string[]) =>
    post<IServerInfo>('servers', { endpoints }),
  stopServer: (id: string) =>
    requestAPI<void>(`servers/${q(id)}`, { method: 'DELETE' })
};
