import * as React from 'react';

import { bundleApi } from '../api_bundles';
import { endpointApi } from '../api_endpoints';
import { IValidationError } from '../types_scenarios';
import { IScenarioStep, StepIf, StepKind } from '../types_scenario_steps';
import { Choice, Field, NumberInput, TextInput } from './fields';
import { newStep, stepKindFields } from './StepKindFields';

const KINDS: [StepKind, string][] = [
  ['run', 'run: a pipeline run'],
  ['check', 'check: conditions on metrics'],
  ['compare', 'compare with the champion'],
  ['bundle', 'bundle: freeze a version'],
  ['approve', 'approve: wait for a person'],
  ['deploy', 'deploy the bundle'],
  ['endpoint', 'endpoint: canary or shadow'],
  ['notify', 'notify: send a report']
];

const IF: [StepIf, string][] = [
  ['success', 'after a success'],
  ['failure', 'after a failure'],
  ['always', 'always']
];

/**
 * The scenario's ordered steps: add, move up/down, remove, each kind's fields.
 * Each step keeps a key of its own so typed-in text follows it when it moves.
 */
export function StepListEditor(props: {
  steps: IScenarioStep[];
  onChange: (steps: IScenarioStep[]) => void;
  errors: IValidationError[];
  pipelineSteps: string[];
}): JSX.Element {
  const { steps, errors } = props;
  const [kind, setKind] = React.useState<StepKind>('run');
  // Known node and endpoint names, suggested as you type (the server still checks them).
  const [known, setKnown] = React.useState<{ node: string[]; endpoint: string[] }>({ node: [], endpoint: [] });
  const id = React.useId();
  const lists = { node: `${id}-nodes`, endpoint: `${id}-endpoints` };
  React.useEffect(() => {
    Promise.all([
      bundleApi.nodes().then(n => n.map(x => x.name)).catch(() => [] as string[]),
      endpointApi.list().then(e => e.map(x => x.name)).catch(() => [] as string[])
    ]).then(([node, endpoint]) => setKnown({ node, endpoint }));
  }, []);
  const nextKey = React.useRef(0);
  const keys = React.useRef<number[]>([]);
  while (keys.current.length < steps.length) {
    keys.current.push(nextKey.current++);
  }
  keys.current.length = steps.length;

  const move = (i: number, j: number) => {
    const order = steps.map((_, k) => k);
    [order[i], order[j]] = [order[j], order[i]];
    keys.current = order.map(k => keys.current[k]);
    props.onChange(order.map(k => steps[k]));
  };
  const remove = (i: number) => {
    keys.current = keys.current.filter((_, k) => k !== i);
    props.onChange(steps.filter((_, k) => k !== i));
  };

  return (
    <fieldset className="jp-mlprod-steplist-editor" data-testid="mlprod-scenario-steps">
      <legend>Steps</legend>
      <div className="jp-mlprod-hint">
        {steps.length
          ? 'Run in order; each step runs when its condition on the previous outcome holds.'
          : 'No steps: each fire runs the selection above. Add steps to retrain, compare, approve and deploy.'}
      </div>
      <Field label="" field="steps" errors={errors}>{null}</Field>
      <datalist id={lists.node}>{known.node.map(n => <option key={n} value={n} />)}</datalist>
      <datalist id={lists.endpoint}>{known.endpoint.map(n => <option key={n} value={n} />)}</datalist>
      {steps.map((step, i) => (
        <StepCard key={keys.current[i]} index={i} count={steps.length} step={step} errors={errors}
          pipelineSteps={props.pipelineSteps} lists={lists}
          onChange={s => props.onChange(steps.map((x, k) => (k === i ? s : x)))}
          onMove={j => move(i, j)} onRemove={() => remove(i)} />
      ))}
      <div className="jp-mlprod-toolbar">
        <select className="jp-mod-styled jp-mlprod-narrow" value={kind} data-testid="mlprod-add-step-kind"
          onChange={e => setKind(e.target.value as StepKind)}>
          {KINDS.map(([k, label]) => <option key={k} value={k}>{label}</option>)}
        </select>
        <button type="button" className="jp-Button jp-mod-styled jp-mlprod-secondary" data-testid="mlprod-add-step"
          onClick={() => props.onChange([...steps, newStep(kind)])}>+ step</button>
      </div>
    </fieldset>
  );
}

function StepCard(props: {
  index: number;
  count: number;
  step: IScenarioStep;
  errors: IValidationError[];
  pipelineSteps: string[];
  lists: { node: string; endpoint: string };
  onChange: (s: IScenarioStep) => void;
  onMove: (to: number) => void;
  onRemove: () => void;
}): JSX.Element {
  const { index: i, step, errors } = props;
  const shown = new Set<string>();
  const shownUnder: string[] = [];
  const f = (key: string) => {
    const path = `steps[${i}].${key}`;
    shown.add(path);
    return path;
  };
  const tid = (key: string) => `mlprod-step-${key}-${i}`;
  const set = (patch: Partial<IScenarioStep>) => props.onChange({ ...step, ...patch } as IScenarioStep);
  const kindFields = stepKindFields({
    step, set, errors, pipelineSteps: props.pipelineSteps, f, tid, lists: props.lists,
    fUnder: key => {
      const path = `steps[${i}].${key}`;
      shownUnder.push(path);
      return path;
    }
  });
  const common = (
    <>
      <Field label="kind" field={f('kind')} errors={errors} half>
        <Choice<StepKind> value={step.kind} choices={KINDS.map(([k]) => [k, k] as [StepKind, string])} testid={tid('kind')}
          onChange={k => props.onChange({ ...newStep(k), name: step.name, if: step.if, timeout: step.timeout })} />
      </Field>
      <Field label="name" field={f('name')} errors={errors} half>
        <TextInput value={step.name} testid={tid('name')} placeholder={step.kind}
          onChange={name => set({ name: name || undefined })} />
      </Field>
      <Field label="run when" field={f('if')} errors={errors} half>
        <Choice<StepIf> value={step.if ?? 'success'} choices={IF} testid={tid('if')}
          onChange={v => set({ if: v })} />
      </Field>
      <Field label={step.kind === 'approve' ? 'wait at most (s)' : 'timeout (s)'} field={f('timeout')} errors={errors} half>
        <NumberInput value={step.timeout} testid={tid('timeout')} placeholder="none"
          onChange={timeout => set({ timeout })} />
      </Field>
    </>
  );
  // The server's messages for fields of this step that no input above shows.
  const own = `steps[${i}]`;
  const others = errors.filter(e =>
    (e.field === own || e.field.startsWith(own + '.') || e.field.startsWith(own + '[')) &&
    !shown.has(e.field) && !shownUnder.some(p => e.field.startsWith(p)));

  return (
    <fieldset className="jp-mlprod-stepcard" data-testid={`mlprod-step-${i}`} data-kind={step.kind}>
      <legend>Step {i + 1}: {step.name || step.kind}</legend>
      <div className="jp-mlprod-stepcard-tools">
        <button type="button" className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
          title="Move up" data-testid={tid('up')} disabled={i === 0}
          onClick={() => props.onMove(i - 1)}>↑</button>
        <button type="button" className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
          title="Move down" data-testid={tid('down')} disabled={i === props.count - 1}
          onClick={() => props.onMove(i + 1)}>↓</button>
        <button type="button" className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
          title="Remove this step" data-testid={tid('remove')} onClick={props.onRemove}>✕</button>
      </div>
      {common}
      {kindFields}
      {others.length > 0 && (
        <div className="jp-mlprod-field-error" role="alert" data-testid={`mlprod-field-error-${own}`}>
          {others.map((e, k) => (
            <div key={k} data-testid={`mlprod-field-error-${e.field}`}>
              {e.field.slice(own.length + 1) || 'step'}: {e.message}
            </div>
          ))}
        </div>
      )}
    </fieldset>
  );
}
