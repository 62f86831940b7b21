import * as React from 'react';

import { IStepRun } from '../types';

/** Where in the notebook it failed, as the output notebook shows it: "In [3]: df = load()".
 * Falls back to the cell index when the server does not know the execution number. */
export function errorLocation(error: NonNullable<IStepRun['error']>): string | null {
  const source = error.cell_source ?? null;
  const first = source
    ? (source.split('\n').find(line => line.trim()) ?? '').trim()
    : '';
  const line = first.length > 80 ? first.slice(0, 79) + '…' : first;
  if (error.execution_count !== null && error.execution_count !== undefined) {
    return `In [${error.execution_count}]` + (line ? `: ${line}` : '');
  }
  if (error.cell_index !== null && error.cell_index !== undefined) {
    return `cell index ${error.cell_index}` + (line ? `: ${line}` : '');
  }
  return line || null;
}

/** A step run's error, visible: where, the exception and its message (which, for a missing
 * module, ends with the `pip install X` to run). */
export function StepError(props: { stepRun: IStepRun; showStep?: boolean }): JSX.Element | null {
  const sr = props.stepRun;
  const error = sr.error;
  if (!error) {
    return null;
  }
  const where = errorLocation(error);
  return (
    <div className="jp-mlprod-error" role="alert" data-testid={`mlprod-steprun-error-${sr.step}`}>
      {(props.showStep || where) && (
        <span className="jp-mlprod-error-where" data-testid={`mlprod-steprun-error-where-${sr.step}`}>
          {props.showStep ? `${sr.step}` : ''}
          {props.showStep && where ? ' · ' : ''}
          {where ?? ''}
        </span>
      )}
      <strong>{error.ename}</strong>
      {error.evalue ? `: ${error.evalue}` : ''}
    </div>
  );
}
