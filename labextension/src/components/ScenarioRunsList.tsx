import * as React from 'react';

import { scenarioApi } from '../api_scenarios';
import { errorMessage } from '../handler';
import { ErrorBox, formatTime, statusLabel, usePoll } from '../format';
import { IScenario } from '../types_scenarios';
import { IScenarioRunSummary } from '../types_scenario_steps';
import { fireStatus } from './ScenarioTimeline';

/** A scenario's runs (its fires), newest first, each with its steps' outcomes at a glance. */
export function ScenarioRunsList(props: {
  scenario: IScenario;
  onOpen: (fireId: number) => void;
  onBack: () => void;
}): JSX.Element {
  const [runs, setRuns] = React.useState<IScenarioRunSummary[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const load = React.useCallback(async () => {
    try {
      setRuns(await scenarioApi.runs(props.scenario.id));
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, [props.scenario.id]);
  usePoll(load, 2000, true);

  return (
    <div className="jp-mlprod-view" data-testid="mlprod-scenario-runs">
      <div className="jp-mlprod-toolbar">
        <button className="jp-Button jp-mod-styled jp-mlprod-secondary" data-testid="mlprod-scenario-runs-back"
          onClick={props.onBack}>← Scenarios</button>
      </div>
      <div className="jp-mlprod-title">Runs of {props.scenario.name}</div>
      <ErrorBox error={error} testid="mlprod-scenario-runs-error" />
      {runs && runs.length === 0 && <div className="jp-mlprod-empty">Not fired yet.</div>}
      {runs && runs.length > 0 && (
        <table className="jp-mlprod-table">
          <thead>
            <tr>
              <th>#</th>
              <th>due</th>
              <th>status</th>
              <th>steps</th>
            </tr>
          </thead>
          <tbody>
            {runs.map(r => (
              <tr key={r.id} data-testid={`mlprod-fire-row-${r.id}`} data-status={fireStatus(r)}
                title={r.reason ?? 'Open this scenario run'} onClick={() => props.onOpen(r.id)}>
                <td>{r.id}</td>
                <td>{formatTime(r.due_at)}</td>
                <td><span className="jp-mlprod-badge" data-status={fireStatus(r)}>{statusLabel(r.outcome ?? r.status)}</span></td>
                <td>
                  {(r.steps ?? []).map(s => (
                    <span key={s.index} className="jp-mlprod-dot" data-status={s.status}
                      title={`${s.index + 1}. ${s.name || s.kind}: ${statusLabel(s.status)}`} />
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
