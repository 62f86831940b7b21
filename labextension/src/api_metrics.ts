import { requestAPI } from './handler';
import { IMetric, IMetricHistory, IRunChecks } from './types_metrics';

function q(value: string | number): string {
  return encodeURIComponent(String(value));
}

/** The metrics calls the panel makes; one line each, no rules. */
export const metricsApi = {
  history: (step: string, last = 20) =>
    requestAPI<IMetricHistory>(`steps/${q(step)}/metrics?last=${last}`),
  runMetrics: (runId: number | string) =>
    requestAPI<{ run_id: number; metrics: IMetric[] }>(
      `runs/${q(runId)}/metrics`
    ),
  runChecks: (runId: number | string) =>
    requestAPI<IRunChecks>(`runs/${q(runId)}/checks`)
};
