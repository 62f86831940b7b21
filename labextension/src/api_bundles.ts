import { requestAPI } from './handler';
import { post, q } from './rest';
import {
  IAuditList,
  IBundle,
  IBundleDiff,
  IBundleList,
  IBundlePreview,
  IBundleVerification,
  IDeployment,
  IDeploymentHistory,
  IDeployResult,
  INode
} from './types_bundles';

/** The bundle, node and deployment calls; one line each, no rules. */
export const bundleApi = {
  list: (limit = 50) => requestAPI<IBundleList>(`bundles?limit=${limit}`),
  preview: () => requestAPI<IBundlePreview>('bundles/preview'),
  create: (message: string) => post<IBundle>('bundles', { message }),
  show: (id: string) => requestAPI<IBundle>(`bundles/${q(id)}`),
  diff: (a: string, b: string) =>
    requestAPI<IBundleDiff>(`bundles/diff?a=${q(a)}&b=${q(b)}`),
  verify: (id: string) => post<IBundleVerification>(`bundles/${q(id)}/verify`),
  deploy: (id: string, target: string, strict: boolean, message: string,
    env: 'compare' | 'recreate' = 'compare') =>
    post<IDeployResult>(`bundles/${q(id)}/deploy`, { target, strict, message, env }),
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
