import * as React from 'react';

import { scenarioApi } from '../api_scenarios';
import { changed, errorMessage } from '../handler';
import { ErrorBox, formatTime, usePoll } from '../format';
import { IScenario } from '../types_scenarios';
import { scenarioRunShown, takePendingScenarioRun } from '../scenarioRunLink';
import { ScenarioForm } from './ScenarioForm';
import { ScenarioRunsList } from './ScenarioRunsList';
import { ScenarioRunView } from './ScenarioRunView';
import { ScenarioTimeline } from './ScenarioTimeline';

type Mode =
  | { kind: 'list' }
  | { kind: 'form'; scenario: IScenario | null }
  | { kind: 'monitor' }
  | { kind: 'runs'; scenario: IScenario }
  | { kind: 'run'; fireId: number; back: Mode };

/** Scenarios tab: the list, the create/edit form and the monitoring timeline. */
export function ScenariosView(props: { onShowRun: (id: number) => void }): JSX.Element {
  const [mode, setMode] = React.useState<Mode>(() => {
    const fireId = takePendingScenarioRun();
    return fireId === null ? { kind: 'list' } : { kind: 'run', fireId, back: { kind: 'list' } };
  });
  React.useEffect(() => {
    const show = (_: object, fireId: number) => {
      takePendingScenarioRun();
      setMode({ kind: 'run', fireId, back: { kind: 'list' } });
    };
    scenarioRunShown.connect(show);
    return () => {
      scenarioRunShown.disconnect(show);
    };
  }, []);
  const [scenarios, setScenarios] = React.useState<IScenario[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);

  const load = React.useCallback(async () => {
    try {
      setScenarios(await scenarioApi.list());
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, []);
  usePoll(load, 3000, mode.kind === 'list');

  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setError(null);
      changed.emit('scenarios');
    } catch (err) {
      setError(errorMessage(err));
    }
    await load();
  };

  const tabs = (
    <div className="jp-mlprod-toolbar">
      <button className="jp-Button jp-mod-styled jp-mod-accept jp-mlprod-small" data-testid="mlprod-scenario-new"
        onClick={() => setMode({ kind: 'form', scenario: null })}>New scenario</button>
      <button className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small" data-testid="mlprod-scenarios-list"
        aria-pressed={mode.kind === 'list'} onClick={() => setMode({ kind: 'list' })}>List</button>
      <button className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small" data-testid="mlprod-scenarios-monitor"
        aria-pressed={mode.kind === 'monitor'} onClick={() => setMode({ kind: 'monitor' })}>Monitoring</button>
    </div>
  );

  if (mode.kind === 'form') {
    return (
      <ScenarioForm scenario={mode.scenario}
        scenarioNames={(scenarios ?? []).map(s => s.name)}
        onCancel={() => setMode({ kind: 'list' })}
        onSaved={() => {
          changed.emit('scenarios');
          setMode({ kind: 'list' });
        }} />
    );
  }
  if (mode.kind === 'runs') {
    return (
      <ScenarioRunsList scenario={mode.scenario} onBack={() => setMode({ kind: 'list' })}
        onOpen={fireId => setMode({ kind: 'run', fireId, back: mode })} />
    );
  }
  if (mode.kind === 'run') {
    return (
      <div className="jp-mlprod-view">
        <ScenarioRunView fireId={mode.fireId} onShowRun={props.onShowRun}
          onBack={() => setMode(mode.back)} />
      </div>
    );
  }
  if (mode.kind === 'monitor') {
    return (
      <div className="jp-mlprod-view" data-testid="mlprod-scenarios-view">
        {tabs}
        <ScenarioTimeline onShowRun={props.onShowRun}
          onOpenScenarioRun={fireId => setMode({ kind: 'run', fireId, back: mode })} />
      </div>
    );
  }
  return (
    <div className="jp-mlprod-view" data-testid="mlprod-scenarios-view">
      {tabs}
      <ErrorBox error={error} testid="mlprod-scenarios-error" />
      {scenarios && scenarios.length === 0 && (
        <div className="jp-mlprod-empty">No scenario yet. A scenario runs the pipeline on a schedule, when data changes or after another scenario.</div>
      )}
      {scenarios && scenarios.length > 0 && (
        <div className="jp-mlprod-cards" data-testid="mlprod-scenarios-table">
          {scenarios.map(s => (
            <div key={s.id} className="jp-mlprod-card" data-testid={`mlprod-scenario-row-${s.name}`}
              data-enabled={String(s.enabled)} data-status={s.last_outcome ?? 'none'}>
              <div className="jp-mlprod-card-head">
                <input type="checkbox" checked={s.enabled} title={s.enabled ? 'Enabled: click to disable' : 'Disabled: click to enable'}
                  data-testid={`mlprod-scenario-toggle-${s.name}`}
                  onChange={e => {
                    const on = e.target.checked;
                    setScenarios(list => (list ?? []).map(x => (x.id === s.id ? { ...x, enabled: on } : x)));
                    void act(() => scenarioApi.setEnabled(s.id, on));
                  }} />
                <button className="jp-mlprod-link jp-mlprod-card-name" data-testid={`mlprod-scenario-edit-${s.name}`}
                  title="Edit" onClick={() => setMode({ kind: 'form', scenario: s })}>{s.name}</button>
                {s.active_run_id ? (
                  <button className="jp-mlprod-link" data-testid={`mlprod-scenario-active-${s.name}`}
                    onClick={() => props.onShowRun(s.active_run_id!)}>
                    <span className="jp-mlprod-badge" data-status="running">running</span>
                  </button>
                ) : s.last ? (
                  <button className="jp-mlprod-link" data-testid={`mlprod-scenario-last-${s.name}`}
                    disabled={!s.last.run_id && !s.steps?.length} title={s.last.reason ?? 'Open the last run'}
                    onClick={() => {
                      if (s.steps?.length && s.last) {
                        // a scenario with steps: its last scenario run, step by step
                        setMode({ kind: 'run', fireId: s.last.fire_id, back: { kind: 'list' } });
                      } else if (s.last?.run_id) {
                        props.onShowRun(s.last.run_id);
                      }
                    }}>
                    <span className="jp-mlprod-badge" data-status={s.last.outcome ?? 'none'}>
                      {s.last.outcome ?? 'open'}
                    </span>
                  </button>
                ) : (
                  <span className="jp-mlprod-hint">never run</span>
                )}
                <button className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
                  data-testid={`mlprod-scenario-runs-${s.name}`} title="Its runs: each step's outcome, approvals"
                  onClick={() => setMode({ kind: 'runs', scenario: s })}>Runs</button>
                <button className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
                  data-testid={`mlprod-scenario-run-${s.name}`} title="Run now"
                  onClick={() => void act(async () => {
                    const run = await scenarioApi.trigger(s.id);
                    if (s.steps?.length) {
                      // a scenario with steps answers with its scenario run, carried out by the scheduler
                      setMode({ kind: 'run', fireId: run.id, back: { kind: 'runs', scenario: s } });
                    } else if (run && run.id) {
                      props.onShowRun(run.id);
                    }
                  })}>▶ Run now</button>
              </div>
              {s.trigger_status.map(t => (
                <div key={t.index} className="jp-mlprod-hint" data-testid={`mlprod-scenario-trigger-${s.name}-${t.index}`}>
                  {t.description}
                  {t.error && <span className="jp-mlprod-warn"> ⚠ {t.error}</span>}
                </div>
              ))}
              <div className="jp-mlprod-hint" data-testid={`mlprod-scenario-next-${s.name}`}>
                next: {s.enabled ? (s.next_fire_at ? formatTime(s.next_fire_at) : 'on event / by hand') : 'disabled'}
                {s.waiting > 0 && ` · ${s.waiting} waiting`}
              </div>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
