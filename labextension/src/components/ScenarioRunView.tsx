import * as React from 'react';

import { scenarioApi } from '../api_scenarios';
import { errorMessage } from '../handler';
import { ErrorBox, formatTime, statusLabel, usePoll } from '../format';
import { IScenarioRunView, IScenarioStepRun } from '../types_scenario_steps';
import { ApprovalBox } from './ApprovalBox';
import { ComparisonTable } from './ComparisonTable';

/** One scenario run: each step's outcome, values, comparison and approval; live while open. */
export function ScenarioRunView(props: {
  fireId: number;
  onBack: () => void;
  onShowRun: (id: number) => void;
}): JSX.Element {
  const [run, setRun] = React.useState<IScenarioRunView | null>(null);
  const [error, setError] = React.useState<string | null>(null);

  const load = React.useCallback(async () => {
    try {
      setRun(await scenarioApi.run(props.fireId));
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, [props.fireId]);
  // An open run (finished_at still null) is followed live, calmly while it waits for a person;
  // a finished one is read once.
  usePoll(load, run?.status === 'waiting_approval' ? 3000 : 1000, !run || !run.finished_at);

  return (
    <div className="jp-mlprod-rundetail" data-testid="mlprod-scenario-run-view"
      data-status={run?.status ?? 'none'}>
      <div className="jp-mlprod-toolbar">
        <button className="jp-Button jp-mod-styled jp-mlprod-secondary" data-testid="mlprod-scenario-run-back"
          onClick={props.onBack}>← Scenario runs</button>
      </div>
      <ErrorBox error={error} testid="mlprod-scenario-run-error" />
      {run && (
        <>
          <h3 className="jp-mlprod-title">
            {run.scenario ?? `scenario ${run.scenario_id}`}, run {run.id}{' '}
            <span className="jp-mlprod-badge" data-testid="mlprod-scenario-run-status" data-status={run.status}>
              {statusLabel(run.status)}
            </span>
          </h3>
          <dl className="jp-mlprod-facts">
            <dt>Trigger</dt>
            <dd>{run.trigger ?? '—'}</dd>
            <dt>Started</dt>
            <dd>{formatTime(run.started_at)}</dd>
            <dt>Finished</dt>
            <dd>{run.finished_at ? formatTime(run.finished_at) : 'not yet'}</dd>
          </dl>
          {run.error && (
            <div className="jp-mlprod-error" data-testid="mlprod-scenario-run-errortext">{run.error}</div>
          )}
          <div className="jp-mlprod-steplist">
            {run.steps.map(sr => (
              <ScenarioStepRow key={sr.index} fireId={run.id} stepRun={sr}
                waiting={run.status === 'waiting_approval' && sr.status === 'waiting'}
                onShowRun={props.onShowRun} onDecided={setRun} />
            ))}
          </div>
        </>
      )}
    </div>
  );
}

function ScenarioStepRow(props: {
  fireId: number;
  stepRun: IScenarioStepRun;
  waiting: boolean;
  onShowRun: (id: number) => void;
  onDecided: (run: IScenarioRunView) => void;
}): JSX.Element {
  const sr = props.stepRun;
  // Values shown by the comparison table or the approval box are not repeated.
  const shownElsewhere = [
    ...(sr.comparison ? ['comparison'] : []),
    ...(sr.approval ? ['decision', 'decided_by', 'message'] : [])
  ];
  const values = Object.entries(sr.values ?? {}).filter(([k]) => !shownElsewhere.includes(k));
  return (
    <div className="jp-mlprod-steprun" data-testid={`mlprod-scenario-step-${sr.index}`}
      data-kind={sr.kind} data-status={sr.status}>
      <div className="jp-mlprod-steprun-head">
        <span className="jp-mlprod-dot" data-status={sr.status} />
        <span className="jp-mlprod-steprun-name">{sr.index + 1}. {sr.name || sr.kind}</span>
        {sr.name && sr.name !== sr.kind && <span className="jp-mlprod-hint">{sr.kind}</span>}
        <span className="jp-mlprod-badge" data-status={sr.status}
          data-testid={`mlprod-scenario-step-status-${sr.index}`}>{statusLabel(sr.status)}</span>
      </div>
      {sr.started_at && (
        <div className="jp-mlprod-steprun-meta">
          {formatTime(sr.started_at)}{sr.finished_at ? ` → ${formatTime(sr.finished_at)}` : ''}
        </div>
      )}
      {sr.error && (
        <div className="jp-mlprod-error" data-testid={`mlprod-scenario-step-error-${sr.index}`}>{sr.error}</div>
      )}
      {values.length > 0 && (
        <dl className="jp-mlprod-facts" data-testid={`mlprod-scenario-step-values-${sr.index}`}>
          {values.map(([k, v]) => (
            <React.Fragment key={k}>
              <dt>{k.replace(/_/g, ' ')}</dt>
              <dd>
                {k === 'run_id' && typeof v === 'number' ? (
                  <button className="jp-mlprod-link" data-testid={`mlprod-scenario-step-run-${sr.index}`}
                    onClick={() => props.onShowRun(v)}>run {v}</button>
                ) : <StepValue name={k} value={v} />}
              </dd>
            </React.Fragment>
          ))}
        </dl>
      )}
      {sr.comparison && sr.comparison.length > 0 && (
        <ComparisonTable rows={sr.comparison} testid={`mlprod-comparison-${sr.index}`} />
      )}
      {sr.approval && (
        <ApprovalBox fireId={props.fireId} approval={sr.approval} waiting={props.waiting}
          onDecided={props.onDecided} />
      )}
    </div>
  );
}

/** A step value: text, or a folded table for a map (metric values can be many). */
function StepValue(props: { name: string; value: unknown }): JSX.Element {
  const v = props.value;
  if (v === null || typeof v !== 'object') {
    return <>{String(v)}</>;
  }
  if (Array.isArray(v)) {
    return <code>{JSON.stringify(v)}</code>;
  }
  const entries = Object.entries(v as { [k: string]: unknown });
  if (entries.length <= 3 && entries.every(([, x]) => x === null || typeof x !== 'object')) {
    return <>{entries.map(([k, x]) => `${k}: ${String(x)}`).join(', ')}</>;
  }
  return (
    <details>
      <summary>{entries.length} {props.name === 'metrics' ? 'metrics' : 'entries'}</summary>
      <table className="jp-mlprod-table">
        <tbody>
          {entries.map(([k, x]) => (
            <tr key={k}>
              <td><code>{k}</code></td>
              <td className="jp-mlprod-value">{typeof x === 'object' ? JSON.stringify(x) : String(x)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}
