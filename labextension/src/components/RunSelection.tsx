import * as React from 'react';

import { IValidationError } from '../types_scenarios';
import { Choice, Field } from './fields';

type RunMode = 'all' | 'steps' | 'from';

/** What a pipeline run covers: every step, some steps, or from one step on. */
export interface IRunSelection {
  steps?: string[] | null;
  from?: string | null;
}

/** Errors under a list field (`run.steps[0]`, `run.parameters.n_rows`). */
export function FieldListErrors(props: {
  errors: IValidationError[];
  prefix: string;
}): JSX.Element | null {
  const mine = props.errors.filter(e => e.field.startsWith(props.prefix));
  if (!mine.length) {
    return null;
  }
  return (
    <div className="jp-mlprod-field-error" role="alert" data-testid={`mlprod-field-error-${props.prefix}`}>
      {mine.map((e, i) => <div key={i}>{e.field}: {e.message}</div>)}
    </div>
  );
}

/**
 * The run-selection inputs of a scenario (`run.`) or of a run step (`steps[2].`):
 * `field` gives the spec path the server names, `testid` the test ids.
 */
export function RunSelectionFields(props: {
  selection: IRunSelection;
  pipelineSteps: string[];
  errors: IValidationError[];
  onChange: (patch: IRunSelection) => void;
  /** The path of the selection as a whole (`run`, `steps[2]`). */
  modeField: string;
  field: (key: string) => string;
  testid: (key: string) => string;
}): JSX.Element {
  const { selection: run, pipelineSteps: steps, errors, field, testid } = props;
  const mode: RunMode = run.steps ? 'steps' : run.from ? 'from' : 'all';
  return (
    <>
      <Field label="run" field={props.modeField} errors={errors}>
        <Choice<RunMode> value={mode} testid={testid('run-mode')}
          choices={[['all', 'the whole pipeline'], ['steps', 'some steps'], ['from', 'from a step on']]}
          onChange={m => props.onChange(m === 'all' ? { steps: null, from: null }
            : m === 'steps' ? { steps: steps.slice(0, 1), from: null }
              : { steps: null, from: steps[0] ?? '' })} />
      </Field>
      {mode === 'steps' && steps.map(s => (
        <label key={s} className="jp-mlprod-check">
          <input type="checkbox" data-testid={testid(`step-${s}`)}
            checked={(run.steps ?? []).includes(s)}
            onChange={e => props.onChange({ steps: e.target.checked
              ? [...(run.steps ?? []), s] : (run.steps ?? []).filter(x => x !== s) })} />
          {s}
        </label>
      ))}
      <FieldListErrors errors={errors} prefix={field('steps')} />
      {mode === 'from' && (
        <Field label="from step" field={field('from')} errors={errors}>
          <Choice value={run.from ?? ''} testid={testid('from')}
            choices={steps.map(s => [s, s] as [string, string])} onChange={from => props.onChange({ from })} />
        </Field>
      )}
    </>
  );
}
