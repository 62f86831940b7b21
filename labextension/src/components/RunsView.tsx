import * as React from 'react';

import { api, changed, errorMessage } from '../handler';
import {
  ErrorBox,
  formatDuration,
  formatParameters,
  formatTime,
  statusLabel,
  usePoll
} from '../format';
import { IRun, isActive } from '../types';
import { RunDetail } from './RunDetail';

const PAGE = 50;

export interface IRunsViewProps {
  selected: number | string | null;
  onSelect: (id: number | string | null) => void;
  onOpenOutput: (runId: number | string, step: string) => void;
  onOpenLog: (runId: number | string, step: string) => void;
  onRunUpdated: (run: IRun) => void;
}

/** Runs tab: the history table, or one run's detail. */
export function RunsView(props: IRunsViewProps): JSX.Element {
  if (props.selected !== null) {
    return (
      <RunDetail
        runId={props.selected}
        onBack={() => props.onSelect(null)}
        onShowRun={props.onSelect}
        onOpenOutput={props.onOpenOutput}
        onOpenLog={props.onOpenLog}
        onRunUpdated={props.onRunUpdated}
      />
    );
  }
  return <RunsTable onSelect={props.onSelect} />;
}

function RunsTable(props: {
  onSelect: (id: number | string) => void;
}): JSX.Element {
  const [runs, setRuns] = React.useState<IRun[] | null>(null);
  const [total, setTotal] = React.useState(0);
  const [offset, setOffset] = React.useState(0);
  const [error, setError] = React.useState<string | null>(null);

  const load = React.useCallback(async () => {
    try {
      const list = await api.listRuns(PAGE, offset);
      setRuns(list.runs);
      setTotal(list.total);
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, [offset]);

  React.useEffect(() => {
    const onChanged = () => void load();
    changed.connect(onChanged);
    return () => {
      changed.disconnect(onChanged);
    };
  }, [load]);
  const anyActive = (runs ?? []).some(r => isActive(r.status));
  // Fast while something runs, slow otherwise (runs started by the CLI or
  // a schedule show up too).
  usePoll(load, anyActive ? 1000 : 5000, true);

  return (
    <div className="jp-mlprod-view" data-testid="mlprod-runs-view">
      <div className="jp-mlprod-toolbar">
        <button
          className="jp-Button jp-mod-styled jp-mlprod-secondary"
          data-testid="mlprod-refresh-runs"
          onClick={() => void load()}
        >
          Refresh
        </button>
        <span className="jp-mlprod-hint">
          {total} run{total === 1 ? '' : 's'}
        </span>
      </div>
      <ErrorBox error={error} />
      {runs && runs.length === 0 && (
        <div className="jp-mlprod-empty">No run yet.</div>
      )}
      {runs && runs.length > 0 && (
        <table className="jp-mlprod-table jp-mod-stack" data-testid="mlprod-runs-table">
          <thead>
            <tr>
              <th>#</th>
              <th>Status</th>
              <th>Started</th>
              <th>Duration</th>
              <th>Parameters</th>
              <th>Trigger</th>
            </tr>
          </thead>
          <tbody>
            {runs.map(run => (
              <tr
                key={run.id}
                data-testid={`mlprod-runs-row-${run.id}`}
                data-status={run.status}
                tabIndex={0}
                onClick={() => props.onSelect(run.id)}
                onKeyDown={e => e.key === 'Enter' && props.onSelect(run.id)}
                title="Show the steps of this run"
              >
                <td data-label="#">{run.id}</td>
                <td>
                  <span className="jp-mlprod-badge" data-status={run.status}>
                    {statusLabel(run.status)}
                  </span>
                </td>
                <td data-label="started">{formatTime(run.started_at ?? run.created_at)}</td>
                <td data-label="took">{formatDuration(run.duration)}</td>
                <td className="jp-mlprod-params jp-mod-wide" data-label="parameters">
                  {formatParameters(run.parameters)}
                </td>
                <td data-label="by">{run.trigger ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {total > PAGE && (
        <div className="jp-mlprod-toolbar">
          <button
            className="jp-Button jp-mod-styled jp-mlprod-secondary"
            disabled={offset === 0}
            onClick={() => setOffset(Math.max(0, offset - PAGE))}
          >
            Newer
          </button>
          <button
            className="jp-Button jp-mod-styled jp-mlprod-secondary"
            disabled={offset + PAGE >= total}
            onClick={() => setOffset(offset + PAGE)}
          >
            Older
          </button>
        </div>
      )}
    </div>
  );
}
