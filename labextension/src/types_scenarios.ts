/**
 * Types of the scenario routes (`/mlprod/api/v1/scenarios...`), mirroring
 * `jupyter_mlprod/server/openapi.yaml`. No rule lives here.
 */
import { IScenarioRunSummary, IScenarioStep } from './types_scenario_steps';

export type TriggerType =
  | 'cron'
  | 'interval'
  | 'files'
  | 'sql'
  | 'run_finished'
  | 'manual'
  | 'drift';

/** One trigger as written by a client (only the keys of its type are sent). */
export interface ITrigger {
  type: TriggerType;
  cron?: string;
  timezone?: string;
  every?: number | string;
  start_at?: string;
  paths?: string[] | string;
  poll?: number;
  url?: string;
  url_env?: string;
  query?: string;
  scenario?: string;
  on?: 'success' | 'failure' | 'any';
  endpoint?: string;
  version?: string | null;
  window?: string;
  checks?: unknown[];
}

export type ReportWhen =
  | 'always'
  | 'failure'
  | 'success'
  | 'change'
  | 'warning'
  | 'check_failed';

export interface IReporter {
  type: 'webhook' | 'email';
  when?: ReportWhen;
  url?: string;
  url_env?: string;
  format?: 'slack' | 'json';
  template?: string;
  to?: string[] | string;
  from?: string;
  host?: string;
  port?: number;
  tls?: 'starttls' | 'ssl' | 'none';
  user?: string;
  password_env?: string;
  subject?: string;
}

export interface IScenarioPolicies {
  misfire?: 'catch_up_once' | 'skip';
  misfire_grace?: number;
  overlap?: 'skip' | 'queue';
  retries?: number;
  retry_delay?: number;
  retry_on?: 'lost' | 'failure';
}

export interface IScenarioRun {
  steps?: string[] | null;
  from?: string | null;
  parameters?: { [key: string]: unknown } | null;
  force?: boolean;
}

export interface IScenarioSpec {
  name: string;
  description?: string;
  enabled?: boolean;
  triggers: ITrigger[];
  run?: IScenarioRun;
  /** The ordered scenario steps; none: each fire runs `run`. */
  steps?: IScenarioStep[];
  reporters?: IReporter[];
  policies?: IScenarioPolicies;
  version?: number;
}

export type FireOutcome = 'succeeded' | 'failed' | 'cancelled' | 'error' | 'rejected' | null;

export interface ITriggerStatus {
  index: number;
  type: string;
  description: string;
  next_fire_at: string | null;
  next_check_at: string | null;
  last_fired_at: string | null;
  last_checked_at: string | null;
  error: string | null;
  error_since: string | null;
}

export interface IScenarioLast {
  fire_id: number;
  outcome: FireOutcome;
  run_id: number | null;
  due_at: string | null;
  finished_at: string | null;
  reason: string | null;
}

export interface IScenario extends IScenarioSpec {
  id: number;
  enabled: boolean;
  version: number;
  created_at: string;
  updated_at: string;
  next_fire_at: string | null;
  trigger_status: ITriggerStatus[];
  last: IScenarioLast | null;
  last_outcome: FireOutcome;
  active_run_id: number | null;
  waiting: number;
}

export interface IValidationError {
  field: string;
  message: string;
  code?: string;
}

export interface ITriggerPreview {
  index: number;
  type: string | null;
  description: string | null;
  next: string[];
}

export interface IScenarioValidation {
  valid: boolean;
  errors: IValidationError[];
  warnings: { field: string; message: string }[];
  triggers: ITriggerPreview[];
  spec: IScenarioSpec | null;
}

export interface IFire {
  id: number;
  scenario_id: number;
  scenario: string | null;
  kind: string;
  trigger?: string | null;
  trigger_index: number | null;
  due_at: string;
  status: string;
  outcome: FireOutcome;
  reason: string | null;
  attempt: number;
  run_id: number | null;
  run_status: string | null;
  launched_at: string | null;
  latency: number | null;
  duration: number | null;
  finished_at: string | null;
  /** The scenario steps' outcomes (empty for a scenario without steps). */
  steps?: IScenarioRunSummary['steps'];
}
