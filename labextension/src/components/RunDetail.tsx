import * as React from 'react';

import { StepError } from './StepError';

import { api, changed, errorMessage } from '../handler';
import {
  cellProgress,
  ErrorBox,
  formatDuration,
  formatParameters,
  formatTime,
  statusLabel,
  usePoll
} from '../format';
import { IRun, IStepRun, isActive } from '../types';
import { RunChecks } from './CheckBadge';

export interface IRunDetailProps {
  runId: number | string;
  onBack: () => void;
  onShowRun: (id: number | string) => void;
  onOpenOutput: (runId: number | string, step: string) => void;
  onOpenLog: (runId: number | string, step: string) => void;
  onRunUpdated?: (run: IRun) => void;
}

/** One run: its step runs, live while it runs, with Resume / Cancel. */
export function RunDetail(props: IRunDetailProps): JSX.Element {
  const [run, setRun] = React.useState<IRun | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);

  const load = React.useCallback(async () => {
    try {
      const r = await api.getRun(props.runId);
      setRun(r);
      setError(null);
      props.onRunUpdated?.(r);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, [props.runId]);

  React.useEffect(() => {
    setRun(null);
    void load();
  }, [load]);
  usePoll(load, 1000, !run || isActive(run.status));

  const act = async (what: 'resume' | 'cancel') => {
    setBusy(true);
    setError(null);
    try {
      const r =
        what === 'resume'
          ? await api.resumeRun(props.runId)
          : await api.cancelRun(props.runId);
      changed.emit(what);
      if (what === 'resume') {
        props.onShowRun(r.id);
      } else {
        setRun(r);
        void load();
      }
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="jp-mlprod-rundetail" data-testid="mlprod-run-detail">
      <div className="jp-mlprod-toolbar">
        <button
          className="jp-Button jp-mod-styled jp-mlprod-secondary"
          data-testid="mlprod-run-back"
          onClick={props.onBack}
        >
          ← All runs
        </button>
        {(run?.status === 'failed' || run?.status === 'cancelled') && (
          <button
            className="jp-Button jp-mod-styled jp-mod-accept"
            data-testid="mlprod-resume-button"
            disabled={busy}
            onClick={() => void act('resume')}
          >
            Resume
          </button>
        )}
        {run && isActive(run.status) && (
          <button
            className="jp-Button jp-mod-styled jp-mod-warn"
            data-testid="mlprod-cancel-button"
            disabled={busy}
            onClick={() => void act('cancel')}
          >
            Cancel
          </button>
        )}
      </div>
      <ErrorBox error={error} />
      {run && (
        <>
          <h3 className="jp-mlprod-title">
            Run {run.id}{' '}
            <span
              className="jp-mlprod-badge"
              data-testid="mlprod-run-status"
              data-status={run.status}
            >
              {statusLabel(run.status)}
            </span>
          </h3>
          <dl className="jp-mlprod-facts">
            <dt>Started</dt>
            <dd>{formatTime(run.started_at ?? run.created_at)}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(run.duration)}</dd>
            <dt>Trigger</dt>
            <dd>
              {run.trigger}
              {run.created_by ? ` (${run.created_by})` : ''}
            </dd>
            <dt>Parameters</dt>
            <dd>{formatParameters(run.parameters)}</dd>
            {run.force && (
              <>
                <dt>Force</dt>
                <dd>yes</dd>
              </>
            )}
            {run.resumed_from !== null && run.resumed_from !== undefined && (
              <>
                <dt>Resumes</dt>
                <dd>
                  <button
                    className="jp-mlprod-link"
                    onClick={() => props.onShowRun(run.resumed_from!)}
                  >
                    run {run.resumed_from}
                  </button>
                </dd>
              </>
            )}
          </dl>
          {run.error && (
            <div className="jp-mlprod-error" data-testid="mlprod-run-errortext">
              {run.error}
            </div>
          )}
          <div className="jp-mlprod-steplist">
            {(run.steps ?? []).map(sr => (
              <StepRunRow
                key={sr.step}
                runId={run.id}
                stepRun={sr}
                onOpenOutput={props.onOpenOutput}
                onOpenLog={props.onOpenLog}
              />
            ))}
          </div>
          <RunChecks runId={run.id} version={run.status} />
        </>
      )}
    </div>
  );
}

function StepRunRow(props: {
  runId: number | string;
  stepRun: IStepRun;
  onOpenOutput: (runId: number | string, step: string) => void;
  onOpenLog: (runId: number | string, step: string) => void;
}): JSX.Element {
  const sr = props.stepRun;
  return (
    <div
      className="jp-mlprod-steprun"
      data-testid={`mlprod-steprun-${sr.step}`}
      data-status={sr.status}
    >
      <div className="jp-mlprod-steprun-head">
        <span className="jp-mlprod-dot" data-status={sr.status} />
        <span className="jp-mlprod-steprun-name">{sr.step}</span>
        <span className="jp-mlprod-badge" data-status={sr.status}>
          {statusLabel(sr.status)}
        </span>
        {sr.status === 'running' && cellProgress(sr.cell) && (
          <span
            className="jp-mlprod-progress"
            data-testid={`mlprod-progress-${sr.step}`}
          >
            {cellProgress(sr.cell)}
          </span>
        )}
      </div>
      <div className="jp-mlprod-steprun-meta">
        attempt {sr.attempt} · {formatDuration(sr.duration)}
        {sr.started_at ? ` · ${formatTime(sr.started_at)}` : ''}
      </div>
      {sr.status === 'running' && sr.cell && sr.cell.count ? (
        <progress
          value={sr.cell.index === null ? 0 : sr.cell.index + 1}
          max={sr.cell.count}
        />
      ) : null}
      {sr.reason && (
        <div
          className="jp-mlprod-hint"
          data-testid={`mlprod-reason-${sr.step}`}
        >
          {sr.reason}
        </div>
      )}
      <StepError stepRun={sr} />
      <div className="jp-mlprod-steprun-actions">
        <button
          className="jp-mlprod-link"
          data-testid={`mlprod-open-output-${sr.step}`}
          disabled={!sr.has_output}
          onClick={() => props.onOpenOutput(props.runId, sr.step)}
        >
          Open output
        </button>
        <button
          className="jp-mlprod-link"
          data-testid={`mlprod-open-log-${sr.step}`}
          disabled={sr.status === 'pending'}
          onClick={() => props.onOpenLog(props.runId, sr.step)}
        >
          Log
        </button>
      </div>
    </div>
  );
}
