import * as React from 'react';

import { metricsApi } from '../api_metrics';
import { errorMessage } from '../handler';
import { CheckOutcome, IRunChecks } from '../types_metrics';

/** OK / WARNING / ERROR / EMPTY as a small coloured badge. */
export function CheckBadge(props: {
  outcome: CheckOutcome | null;
  title?: string;
  testid?: string;
}): JSX.Element | null {
  if (!props.outcome) {
    return null;
  }
  return (
    <span
      className="jp-mlprod-checkbadge"
      data-outcome={props.outcome}
      data-testid={props.testid}
      title={props.title ?? `checks: ${props.outcome}`}
    >
      {props.outcome}
    </span>
  );
}

/** The outcome of a DAG node's latest checks: a dot in the node's corner. */
export function NodeCheckMark(props: {
  step: string;
  outcome: CheckOutcome;
  runId: number;
  x: number;
}): JSX.Element {
  return (
    <g
      className="jp-mlprod-node-check"
      data-outcome={props.outcome}
      data-testid={`mlprod-node-checks-${props.step}`}
    >
      <title>{`checks of run ${props.runId}: ${props.outcome}`}</title>
      <circle cx={props.x} cy={9} r={5} />
    </g>
  );
}

/** A run's check results (run detail), reloaded when `version` changes. */
export function RunChecks(props: {
  runId: number | string;
  version: string;
}): JSX.Element | null {
  const [checks, setChecks] = React.useState<IRunChecks | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    metricsApi
      .runChecks(props.runId)
      .then(c => {
        setChecks(c);
        setError(null);
      })
      .catch(err => setError(errorMessage(err)));
  }, [props.runId, props.version]);
  if (error) {
    return <div className="jp-mlprod-hint">checks: {error}</div>;
  }
  if (!checks || checks.checks.length === 0) {
    return null;
  }
  return (
    <div className="jp-mlprod-checks" data-testid="mlprod-run-checks">
      <div className="jp-mlprod-checks-head">
        Checks <CheckBadge outcome={checks.outcome} testid="mlprod-run-checks-outcome" />
      </div>
      {checks.checks.map(c => (
        <div
          key={`${c.step}-${c.position}`}
          className="jp-mlprod-check-row"
          data-testid={`mlprod-check-${c.step}-${c.position}`}
        >
          <CheckBadge outcome={c.outcome} />
          <span className="jp-mlprod-check-step">{c.step}</span>
          <span className="jp-mlprod-check-message">{c.message}</span>
        </div>
      ))}
    </div>
  );
}
