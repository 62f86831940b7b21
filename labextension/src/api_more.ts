import { requestAPI } from './handler';
import {
  IFire,
  IScenario,
  IScenarioSpec,
  IScenarioValidation
} from './types_scenarios';
import {
  IBundle,
  IBundleDiff,
  IBundleList,
  IBundlePreview,
  IBundleVerification,
  IDeployment,
  IDeploymentHistory,
  IDeployResult,
  IAuditList,
  INode
} from './types_bundles';
import { IRun } from './types';
import {
  IEndpoint,
  IEndpointStats,
  IServerInfo,
  ITestResult,
  ITraffic
} from './types_endpoints';

function q(value: string | number): string {
  return encodeURIComponent(String(value));
}

function post<T>(path: string, body: unknown = {}, method = 'POST') {
  return requestAPI<T>(path, { method, body: JSON.stringify(body) });
}

/** The scenario calls the panel makes; one line each, no rules. */
export const scenarioApi = {
  list: () =>
    requestAPI<{ scenarios: IScenario[] }>('scenarios').then(r => r.scenarios),
  get: (id: number | string) => requestAPI<IScenario>(`scenarios/${q(id)}`),
  create: (spec: IScenarioSpec) => post<IScenario>('scenarios', spec),
  update: (id: number | string, spec: IScenarioSpec) =>
    post<IScenario>(`scenarios/${q(id)}`, spec, 'PUT'),
  remove: (id: number | string) =>
    requestAPI<void>(`scenarios/${q(id)}`, { method: 'DELETE' }),
  validate: (spec: IScenarioSpec, current?: number | string | null) =>
    post<IScenarioValidation>(
      'scenarios/validate' + (current ? `?current=${q(current)}` : ''),
      spec
    ),
  setEnabled: (id: number | string, enabled: boolean) =>
    post<IScenario>(`scenarios/${q(id)}/${enabled ? 'enable' : 'disable'}`),
  trigger: (id: number | string) => post<IRun>(`scenarios/${q(id)}/trigger`),
  timeline: (since: string, limit = 500) =>
    requestAPI<{ fires: IFire[] }>(
      `scenarios/timeline?since=${q(since)}&limit=${limit}`
    ).then(r => r.fires)
};

/** The bundle, node and deployment calls; one line each, no rules. */
export const bundleApi = {
  list: (limit = 50) => requestAPI<IBundleList>(`bundles?limit=${limit}`),
  preview: () => requestAPI<IBundlePreview>('bundles/preview'),
  create: (message: string) => post<IBundle>('bundles', { message }),
  show: (id: string) => requestAPI<IBundle>(`bundles/${q(id)}`),
  diff: (a: string, b: string) =>
    requestAPI<IBundleDiff>(`bundles/diff?a=${q(a)}&b=${q(b)}`),
  verify: (id: string) => post<IBundleVerification>(`bundles/${q(id)}/verify`),
  deploy: (id: string, target: string, strict: boolean, message: string) =>
    post<IDeployResult>(`bundles/${q(id)}/deploy`, { target, strict, message }),
  nodes: () => requestAPI<{ nodes: INode[] }>('nodes').then(r => r.nodes),
  registerNode: (name: string, url: string, token_env: string | null) =>
    post<INode>('nodes', { name, url, token_env }),
  removeNode: (name: string) =>
    requestAPI<void>(`nodes/${q(name)}`, { method: 'DELETE' }),
  audit: (limit = 20) => requestAPI<IAuditList>(`audit?limit=${limit}`),
  rollback: (target: string, to: string | null, message: string) =>
    post<IDeployment>(`nodes/${q(target)}/rollback`, { to, message }),
  deployments: (target: string) =>
    requestAPI<IDeploymentHistory>(`nodes/${q(target)}/deployments`)
};

/** The endpoint and server calls; one line each, no rules. */
export const endpointApi = {
  list: () =>
    requestAPI<{ endpoints: IEndpoint[] }>('endpoints').then(r => r.endpoints),
  get: (name: string) => requestAPI<IEndpoint>(`endpoints/${q(name)}`),
  create: (name: string, notebook: string) =>
    post<IEndpoint>('endpoints', { name, notebook }),
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
