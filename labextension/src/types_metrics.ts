/**
 * Metrics and checks types of the REST contract (see openapi.yaml:
 * Check, CheckSummary, Metric, RunMetrics, CheckResult, RunChecks,
 * MetricHistory). No rule lives here.
 */

export type CheckOutcome = 'OK' | 'WARNING' | 'ERROR' | 'EMPTY';

export interface ICheck {
  metric: string;
  min?: number;
  max?: number;
  warn_below?: number;
  warn_above?: number;
  max_drop?: number;
  warn_drop?: number;
}

export type Probes = boolean | { columns: string[] };

export interface ICheckSummary {
  run_id: number;
  outcome: CheckOutcome;
  counts: { [outcome: string]: number };
}

export interface IMetric {
  step: string;
  name: string;
  value: number | null;
  source: 'logged' | 'probe';
  note: string | null;
  at: string | null;
}

export interface ICheckResult {
  step: string;
  position: number;
  metric: string;
  check: ICheck;
  outcome: CheckOutcome;
  value: number | null;
  message: string;
  at: string | null;
}

export interface IRunChecks {
  run_id: number;
  outcome: CheckOutcome | null;
  checks: ICheckResult[];
}

export interface IMetricPoint {
  run_id: number;
  value: number | null;
  note: string | null;
  at: string | null;
  run_status: string;
  step_status: string | null;
  parameters: { [key: string]: unknown };
}

export interface IMetricSeries {
  metric: string;
  source: 'logged' | 'probe';
  points: IMetricPoint[];
}

export interface IMetricHistory {
  step: string;
  metric: string | null;
  series: IMetricSeries[];
}
