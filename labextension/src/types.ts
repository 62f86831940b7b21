/**
 * Types of the REST contract (`/mlprod/api/v1/`).
 *
 * The authoritative description is `jupyter_mlprod/server/openapi.yaml`;
 * these interfaces only mirror it for the panel. No rule lives here.
 */

import { ICheck, ICheckSummary, Probes } from './types_metrics';

export type ParameterType =
  | 'int'
  | 'float'
  | 'str'
  | 'bool'
  | 'list'
  | 'dict'
  | 'none';

export interface IParameterSpec {
  name: string;
  type: ParameterType;
  default: unknown;
  help: string | null;
}

export type RunStatus =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

export type StepRunStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'up_to_date'
  | 'cancelled';

export interface ILatestStepRun {
  run_id: number;
  status: StepRunStatus;
  finished_at: string | null;
}

export interface IStep {
  name: string;
  path: string;
  inputs: string[];
  outputs: string[];
  after: string[];
  timeout: number | null;
  retries: number;
  parameters: IParameterSpec[];
  latest: ILatestStepRun | null;
  checks?: ICheck[];
  probes?: Probes;
  /** The outcome of the checks of the step's newest judged step run. */
  latest_checks?: ICheckSummary | null;
}

export interface IEdge {
  source: string;
  target: string;
  via: string[];
}

export interface IProblem {
  code: string;
  message: string;
  steps: string[];
}

export interface IPipeline {
  steps: IStep[];
  edges: IEdge[];
  problems: IProblem[];
}

export interface IProject {
  name: string;
  root: string;
  /** sqlite, postgresql, ... */
  store: string;
  executor: string;
  parallelism: number;
  default_timeout: number;
}

/** What a notebook's `metadata.mlprod` declares (body of PUT notebooks/step). */
export interface IStepDeclaration {
  name: string;
  inputs: string[];
  outputs: string[];
  after: string[];
  timeout: number | null;
  retries: number;
  checks?: ICheck[];
  probes?: Probes;
}

export interface INotebookStep {
  path: string;
  step: IStepDeclaration | null;
  parameters: IParameterSpec[];
}

export interface IRunRequest {
  steps: string[] | null;
  from: string | null;
  parameters: { [key: string]: unknown };
  force: boolean;
}

export interface IStepRunError {
  /** Index in the user's notebook (0-based). */
  cell_index: number | null;
  ename: string;
  evalue: string | null;
  /** The failing cell's execution number, as `In [n]` in the output notebook. */
  execution_count?: number | null;
  /** The failing cell's first non-blank line. */
  cell_source?: string | null;
}

export interface IStepRun {
  step: string;
  path: string;
  status: StepRunStatus;
  attempt: number;
  started_at: string | null;
  finished_at: string | null;
  duration: number | null;
  /** Effective parameters (defaults + overrides). */
  parameters?: { [key: string]: unknown };
  /** Progress through the notebook's cells while it runs. */
  cell: { index: number | null; count: number | null } | null;
  reason: string | null;
  error: IStepRunError | null;
  has_output: boolean;
}

export interface IRun {
  id: number;
  status: RunStatus;
  /** What started it: panel, cli, api, schedule, ... */
  trigger: string;
  created_by: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  duration: number | null;
  parameters: { [key: string]: unknown };
  selection: { steps: string[] | null; from: string | null };
  force: boolean;
  resumed_from: number | null;
  error: string | null;
  /** The scenario whose fire started it; null for a run started by hand. */
  scenario_id?: number | null;
  steps?: IStepRun[];
}

export interface IRunList {
  runs: IRun[];
  total: number;
}

/** Body of every 4xx answer. */
export interface IErrorBody {
  error: { code: string; message: string; field: string | null };
}

/** True while a run may still change. */
export function isActive(status: RunStatus | undefined): boolean {
  return status === 'queued' || status === 'running';
}
