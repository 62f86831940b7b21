import * as React from 'react';

import { metricsApi } from '../api_metrics';
import { api, errorMessage } from '../handler';
import { ErrorBox } from '../format';
import { IStep } from '../types';
import { IMetricHistory, IMetricSeries } from '../types_metrics';
import { CheckBadge } from './CheckBadge';
import { TrendChart } from './TrendChart';

const LAST_RUNS = 20;

function lastValue(series: IMetricSeries): string {
  const last = series.points[series.points.length - 1];
  if (!last || last.value === null) {
    return last?.note ?? '—';
  }
  return Number(last.value.toPrecision(4)).toString();
}

function SeriesCard(props: {
  series: IMetricSeries;
  onShowRun: (id: number) => void;
}): JSX.Element {
  return (
    <div
      className="jp-mlprod-metric"
      data-testid={`mlprod-metric-${props.series.metric}`}
    >
      <div className="jp-mlprod-metric-head">
        <span className="jp-mlprod-metric-name" title={props.series.metric}>
          {props.series.metric}
        </span>
        <span className="jp-mlprod-metric-value">{lastValue(props.series)}</span>
      </div>
      <TrendChart series={props.series} onOpenRun={props.onShowRun} />
    </div>
  );
}

/** Metrics tab: a step's metrics across its recent runs, one trend chart each. */
export function MetricsView(props: {
  onShowRun: (id: number) => void;
}): JSX.Element {
  const [steps, setSteps] = React.useState<IStep[]>([]);
  const [step, setStep] = React.useState<string | null>(null);
  const [history, setHistory] = React.useState<IMetricHistory | null>(null);
  const [error, setError] = React.useState<string | null>(null);

  React.useEffect(() => {
    api
      .pipeline()
      .then(p => {
        setSteps(p.steps);
        const judged = p.steps.find(s => s.latest_checks);
        setStep(current => current ?? (judged ?? p.steps[0])?.name ?? null);
      })
      .catch(err => setError(errorMessage(err)));
  }, []);

  React.useEffect(() => {
    if (!step) {
      return;
    }
    setHistory(null);
    metricsApi
      .history(step, LAST_RUNS)
      .then(h => {
        setHistory(h);
        setError(null);
      })
      .catch(err => setError(errorMessage(err)));
  }, [step]);

  const logged = history?.series.filter(s => s.source === 'logged') ?? [];
  const probes = history?.series.filter(s => s.source === 'probe') ?? [];
  const current = steps.find(s => s.name === step);
  return (
    <div className="jp-mlprod-metrics" data-testid="mlprod-metrics-view">
      <div className="jp-mlprod-toolbar">
        <label className="jp-mlprod-metrics-step">
          Step{' '}
          <select
            className="jp-mod-styled"
            data-testid="mlprod-metrics-step"
            value={step ?? ''}
            onChange={e => setStep(e.target.value)}
          >
            {steps.map(s => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        {current?.latest_checks && (
          <CheckBadge
            outcome={current.latest_checks.outcome}
            title={`checks of run ${current.latest_checks.run_id}`}
          />
        )}
      </div>
      <ErrorBox error={error} />
      {history && history.series.length === 0 && (
        <div className="jp-mlprod-empty" data-testid="mlprod-metrics-empty">
          No metrics recorded for this step yet. Log some with
          mlprod.log_metric("name", value), or declare outputs (tables get
          data probes).
        </div>
      )}
      {logged.map(s => (
        <SeriesCard key={s.metric} series={s} onShowRun={props.onShowRun} />
      ))}
      {probes.length > 0 && (
        <details className="jp-mlprod-probes" open={logged.length === 0}>
          <summary>Data probes ({probes.length})</summary>
          {probes.map(s => (
            <SeriesCard key={s.metric} series={s} onShowRun={props.onShowRun} />
          ))}
        </details>
      )}
    </div>
  );
}
