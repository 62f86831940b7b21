import * as React from 'react';

import { api, changed, errorMessage } from '../handler';
import { cellProgress, ErrorBox, statusLabel, usePoll } from '../format';
import { IPipeline, IRun, IStep, isActive } from '../types';
import { DagView } from './DagView';
import { RunForm } from './RunForm';
import { StepError } from './StepError';

export interface IPipelineViewProps {
  /** The run the panel follows (started here or found running). */
  activeRun: IRun | null;
  onRunStarted: (run: IRun) => void;
  onOpenStep: (step: IStep) => void;
  onShowRun: (id: number | string) => void;
}

/** Pipeline tab: the DAG, its problems, and the "Run pipeline" form. */
export function PipelineView(props: IPipelineViewProps): JSX.Element {
  const [pipeline, setPipeline] = React.useState<IPipeline | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [formOpen, setFormOpen] = React.useState(false);

  const refresh = React.useCallback(async () => {
    try {
      setPipeline(await api.pipeline());
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, []);

  React.useEffect(() => {
    void refresh();
    const onChanged = () => void refresh();
    changed.connect(onChanged);
    return () => {
      changed.disconnect(onChanged);
    };
  }, [refresh]);

  // When the followed run ends, the steps' `latest` changed: reload.
  const run = props.activeRun;
  const runActive = isActive(run?.status);
  const wasActive = React.useRef(false);
  React.useEffect(() => {
    if (wasActive.current && !runActive) {
      void refresh();
    }
    wasActive.current = runActive;
  }, [runActive, refresh]);
  // Also reload now and then while it runs (steps finishing).
  usePoll(refresh, 3000, runActive);

  const statuses: { [step: string]: string | undefined } = {};
  const progress: { [step: string]: string | undefined } = {};
  for (const step of pipeline?.steps ?? []) {
    statuses[step.name] = step.latest?.status;
  }
  if (run && runActive) {
    for (const sr of run.steps ?? []) {
      statuses[sr.step] = sr.status;
      if (sr.status === 'running') {
        progress[sr.step] = cellProgress(sr.cell) || undefined;
      }
    }
  }

  const problemSteps = React.useMemo(
    () => new Set((pipeline?.problems ?? []).flatMap(p => p.steps)),
    [pipeline]
  );

  return (
    <div className="jp-mlprod-view" data-testid="mlprod-pipeline-view">
      <div className="jp-mlprod-toolbar">
        <button
          className="jp-Button jp-mod-styled jp-mod-accept"
          data-testid="mlprod-run-button"
          disabled={!pipeline || pipeline.steps.length === 0}
          onClick={() => setFormOpen(!formOpen)}
        >
          Run pipeline
        </button>
        <button
          className="jp-Button jp-mod-styled jp-mlprod-secondary"
          data-testid="mlprod-refresh-pipeline"
          title="Reload the pipeline"
          onClick={() => void refresh()}
        >
          Refresh
        </button>
      </div>
      <ErrorBox error={error} />
      {pipeline && pipeline.problems.length > 0 && (
        <div
          className="jp-mlprod-error"
          role="alert"
          data-testid="mlprod-problems"
        >
          <strong>
            {pipeline.problems.length === 1
              ? 'The pipeline has a problem'
              : `The pipeline has ${pipeline.problems.length} problems`}
          </strong>
          <ul>
            {pipeline.problems.map((p, i) => (
              <li key={i} data-testid={`mlprod-problem-${p.code}`}>
                {p.message}
              </li>
            ))}
          </ul>
        </div>
      )}
      {formOpen && pipeline && (
        <RunForm
          steps={pipeline.steps}
          onClose={() => setFormOpen(false)}
          onStarted={started => {
            setFormOpen(false);
            props.onRunStarted(started);
          }}
        />
      )}
      {run && (
        <div
          className={`jp-mlprod-runbanner jp-mod-${run.status}`}
          data-testid="mlprod-active-run"
          data-status={run.status}
        >
          <span>
            Run {run.id}: {statusLabel(run.status)}
          </span>
          <button
            className="jp-mlprod-link"
            onClick={() => props.onShowRun(run.id)}
          >
            details
          </button>
        </div>
      )}
      {run?.status === 'failed' &&
        (run.steps ?? []).map(sr => <StepError key={sr.step} stepRun={sr} showStep />)}
      {pipeline && (
        <DagView
          steps={pipeline.steps}
          edges={pipeline.edges}
          statuses={statuses}
          progress={progress}
          problemSteps={problemSteps}
          onOpen={props.onOpenStep}
        />
      )}
      {pipeline && pipeline.steps.length > 0 && <Legend />}
    </div>
  );
}

const LEGEND = [
  'succeeded',
  'up_to_date',
  'running',
  'failed',
  'skipped',
  'none'
];

function Legend(): JSX.Element {
  return (
    <div className="jp-mlprod-legend">
      {LEGEND.map(s => (
        <span key={s} className="jp-mlprod-legend-item" data-status={s}>
          <span className="jp-mlprod-swatch" />
          {s === 'none' ? 'never run' : statusLabel(s)}
        </span>
      ))}
    </div>
  );
}
