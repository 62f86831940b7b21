import * as React from 'react';

import { scenarioApi } from '../api_scenarios';
import { errorMessage } from '../handler';
import { ErrorBox, formatDuration, formatTime, statusLabel, usePoll } from '../format';
import { IFire } from '../types_scenarios';

const WINDOWS: [string, number][] = [
  ['5 min', 5 * 60],
  ['15 min', 15 * 60],
  ['1 hour', 3600],
  ['24 hours', 86400],
  ['7 days', 7 * 86400]
];

/** What colour a fire is drawn in: its outcome, or its run's status while open
 * (a scenario run with steps: its own status, e.g. waiting_approval). */
export function fireStatus(f: IFire): string {
  if (f.outcome) {
    return f.outcome;
  }
  if (f.status === 'skipped' || f.steps?.length) {
    return f.status;
  }
  return f.run_status ?? 'pending';
}

/** Monitoring: one strip per scenario, a mark per fire, coloured by outcome. */
export function ScenarioTimeline(props: {
  onShowRun: (id: number) => void;
  /** Open a scenario run with steps (its steps' outcomes, approval). */
  onOpenScenarioRun: (fireId: number) => void;
}): JSX.Element {
  const [span, setSpan] = React.useState(3600);
  const [fires, setFires] = React.useState<IFire[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [now, setNow] = React.useState(Date.now());

  const load = React.useCallback(async () => {
    const t = Date.now();
    try {
      setFires(await scenarioApi.timeline(new Date(t - span * 1000).toISOString()));
      setNow(t);
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, [span]);
  usePoll(load, 3000, true);

  const byScenario = new Map<string, IFire[]>();
  for (const f of fires ?? []) {
    const name = f.scenario ?? `#${f.scenario_id}`;
    byScenario.set(name, [...(byScenario.get(name) ?? []), f]);
  }
  const start = now - span * 1000;
  // A fire with steps opens as a scenario run; one without, as its pipeline run.
  const opens = (f: IFire) => !!f.steps?.length || !!f.run_id;
  const open = (f: IFire) =>
    f.steps?.length ? props.onOpenScenarioRun(f.id) : f.run_id && props.onShowRun(f.run_id);
  const pos = (iso: string) =>
    Math.min(100, Math.max(0, ((new Date(iso).getTime() - start) / (span * 1000)) * 100));

  return (
    <div data-testid="mlprod-timeline">
      <div className="jp-mlprod-toolbar">
        <span className="jp-mlprod-hint">Fires in the last</span>
        <select className="jp-mod-styled jp-mlprod-narrow" style={{ width: 'auto', flex: '0 0 auto' }} value={span} data-testid="mlprod-timeline-span"
          onChange={e => setSpan(Number(e.target.value))}>
          {WINDOWS.map(([label, s]) => <option key={s} value={s}>{label}</option>)}
        </select>
      </div>
      <ErrorBox error={error} testid="mlprod-timeline-error" />
      {fires && fires.length === 0 && <div className="jp-mlprod-empty">No fire in this window.</div>}
      {[...byScenario.entries()].sort().map(([name, list]) => (
        <div key={name} className="jp-mlprod-strip-row" data-testid={`mlprod-timeline-row-${name}`}>
          <div className="jp-mlprod-strip-name" title={name}>{name}</div>
          <div className="jp-mlprod-strip">
            {list.map(f => (
              <button key={f.id} className="jp-mlprod-fire" data-status={fireStatus(f)}
                data-testid={`mlprod-fire-${f.id}`} data-run={f.run_id ?? ''}
                style={{ left: `${pos(f.due_at)}%` }} disabled={!opens(f)}
                title={`${f.trigger ?? f.kind} · due ${formatTime(f.due_at)} · ${fireStatus(f)}` +
                  (f.duration !== null ? ` · ${formatDuration(f.duration)}` : '') +
                  (f.reason ? ` · ${f.reason}` : '') + (f.run_id ? ` · run ${f.run_id}` : '')}
                onClick={() => open(f)} />
            ))}
          </div>
        </div>
      ))}
      {byScenario.size > 0 && (
        <div className="jp-mlprod-strip-axis jp-mlprod-hint">
          <span>{formatTime(new Date(start).toISOString())}</span>
          <span>now</span>
        </div>
      )}
      {fires && fires.length > 0 && (
        <table className="jp-mlprod-table jp-mod-stack" data-testid="mlprod-timeline-table">
          <thead>
            <tr><th>Due</th><th>Scenario</th><th>Outcome</th><th>Took</th></tr>
          </thead>
          <tbody>
            {fires.slice(0, 30).map(f => (
              <tr key={f.id} data-testid={`mlprod-fire-row-${f.id}`} data-status={fireStatus(f)}
                tabIndex={opens(f) ? 0 : -1} title={f.reason ?? (f.run_id ? `Open run ${f.run_id}` : '')}
                onClick={() => open(f)}
                onKeyDown={e => e.key === 'Enter' && open(f)}>
                <td data-label="due">{formatTime(f.due_at)}</td>
                <td>{f.scenario}<div className="jp-mlprod-hint">{f.trigger ?? f.kind}</div></td>
                <td>
                  <span className="jp-mlprod-badge" data-status={fireStatus(f)}>{statusLabel(fireStatus(f))}</span>
                  {f.run_id && <div className="jp-mlprod-hint">run {f.run_id}</div>}
                </td>
                <td data-label="took">{formatDuration(f.duration)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="jp-mlprod-legend">
        {['succeeded', 'failed', 'running', 'waiting_approval', 'rejected', 'cancelled', 'error', 'skipped'].map(s => (
          <span key={s}><span className="jp-mlprod-swatch" data-status={s} /> {statusLabel(s)}</span>
        ))}
      </div>
    </div>
  );
}
