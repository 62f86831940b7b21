import { requestAPI } from './handler';
import { post, q } from './rest';
import { IRun } from './types';
import {
  IFire,
  IScenario,
  IScenarioSpec,
  IScenarioValidation
} from './types_scenarios';
import { IScenarioRunSummary, IScenarioRunView } from './types_scenario_steps';

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
    ).then(r => r.fires),
  /** A scenario's runs (its fires), newest first. */
  runs: (id: number | string, limit = 50) =>
    requestAPI<{ fires: IScenarioRunSummary[] }>(
      `scenarios/${q(id)}/fires?limit=${limit}`
    ).then(r => r.fires),
  run: (fireId: number | string) =>
    requestAPI<IScenarioRunView>(`scenarios/fires/${q(fireId)}`),
  decide: (fireId: number | string, decision: 'approve' | 'reject', message?: string) =>
    post<IScenarioRunView>(`scenarios/fires/${q(fireId)}/approval`,
      message ? { decision, message } : { decision })
};
