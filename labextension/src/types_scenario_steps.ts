/** Shapes of scenario steps and scenario runs. PROVISIONAL until the `steps` branch
 * commits the contract to openapi.yaml: then these become aliases of
 * src/generated/openapi.ts like types_endpoints.ts. */

export type StepKind =
  | 'run'
  | 'check'
  | 'compare'
  | 'bundle'
  | 'approve'
  | 'deploy'
  | 'endpoint'
  | 'notify';

export type StepIf = 'success' | 'failure' | 'always';

export interface ICheckSpec {
  metric: string;
  [condition: string]: string | number;
}

export interface IThreshold {
  greater_is_better?: boolean;
  min_absolute_change?: number | null;
  min_relative_change?: number | null;
}

export interface ITargetRef {
  node?: string;
  folder?: string;
  endpoint?: string;
}

export interface IScenarioStep {
  kind: StepKind;
  name?: string;
  if?: StepIf;
  timeout?: number | null;
  steps?: string[] | null;
  from?: string | null;
  parameters?: { [key: string]: unknown } | null;
  checks?: ICheckSpec[];
  target?: ITargetRef;
  metrics?: { [metric: string]: IThreshold };
  message?: string;
  approvers?: string[];
  strict?: boolean;
  endpoint?: string;
  mode?: 'canary' | 'shadow';
  weight?: number;
  promote_after?: { requests?: number; max_errors?: number };
}

export interface IComparisonRow {
  metric: string;
  candidate: number | null;
  champion: number | null;
  passed: boolean;
  rule: string;
}

export interface IApproval {
  approvers: string[];
  deadline: string | null;
  decision: string | null;
  decided_by: string | null;
  message: string | null;
}

export interface IScenarioStepRun {
  index: number;
  kind: StepKind;
  name: string | null;
  status: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  values: { [key: string]: unknown } | null;
  comparison: IComparisonRow[] | null;
  approval: IApproval | null;
}

export interface IScenarioRunView {
  id: number;
  scenario_id: number;
  scenario: string | null;
  status: string;
  trigger: string | null;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  steps: IScenarioStepRun[];
}

export interface IScenarioRunSummary {
  id: number;
  status: string;
  due_at: string;
  finished_at: string | null;
  trigger?: string | null;
  reason: string | null;
  run_id: number | null;
  steps?: { index: number; kind: string; name: string | null; status: string }[];
}
