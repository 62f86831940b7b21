import * as React from 'react';

import { IValidationError } from '../types_scenarios';
import {
  ICheckSpec,
  IScenarioStep,
  ITargetRef,
  IThreshold,
  StepKind,
  StepOf
} from '../types_scenario_steps';
import { Choice, Field, JsonInput, ListInput, NumberInput, TextInput } from './fields';
import { FieldListErrors, RunSelectionFields } from './RunSelection';

/** What the kind's inputs need: the step, how to change it, and how to name fields. */
export interface IStepFieldsContext<S extends IScenarioStep = IScenarioStep> {
  step: S;
  set: (patch: Partial<S>) => void;
  errors: IValidationError[];
  pipelineSteps: string[];
  /** The spec path of a key of this step (`steps[2].metrics`); marks it as shown. */
  f: (key: string) => string;
  /** Marks every field under this key as shown (a list that prints its own errors). */
  fUnder: (key: string) => string;
  tid: (key: string) => string;
  /** Ids of datalists suggesting known names, by what they name. */
  lists: { node: string; endpoint: string };
}

/** A fresh step of a kind, with example values (the server checks them). */
export function newStep(kind: StepKind): IScenarioStep {
  switch (kind) {
    case 'run':
      return { kind, steps: null, from: null, parameters: {}, force: false };
    case 'check':
      return { kind, checks: [{ metric: '', min: 0 }] };
    case 'compare':
      return { kind, target: { folder: '' }, metrics: { auc: { greater_is_better: true, min_absolute_change: 0 } } };
    case 'bundle':
      return { kind, message: '' };
    case 'approve':
      return { kind, approvers: [], timeout: 86400 };
    case 'deploy':
      return { kind, target: { folder: '' }, strict: false, env: 'compare' };
    case 'endpoint':
      return { kind, endpoint: '', mode: 'canary', weight: 10, promote_after: { requests: 100, max_errors: 0 } };
    default:
      return { kind, message: '' };
  }
}

/** The inputs of one step's kind; called (not mounted) so the card knows which fields it shows. */
export function stepKindFields(c: IStepFieldsContext): JSX.Element | null {
  const { errors, f, tid } = c;
  const step = c.step;
  // The same context, typed for the step's kind.
  const typed = <S extends IScenarioStep>(s: S) =>
    ({ ...c, step: s, set: c.set as (patch: Partial<S>) => void }) as IStepFieldsContext<S>;
  switch (step.kind) {
    case 'run': {
      const set = typed(step).set;
      c.fUnder('steps');
      c.fUnder('parameters.');
      return (
        <>
          <RunSelectionFields selection={step} pipelineSteps={c.pipelineSteps} errors={errors}
            onChange={set} modeField={f('from')} field={f} testid={k => tid(k)} />
          <Field label="parameters (JSON)" field={f('parameters')} errors={errors}>
            <JsonInput value={step.parameters} testid={tid('parameters')}
              onChange={parameters => set({ parameters: parameters as StepOf<'run'>['parameters'] })} />
          </Field>
          <FieldListErrors errors={errors} prefix={f('parameters') + '.'} />
        </>
      );
    }
    case 'check':
      return checkFields(typed(step));
    case 'compare':
      return (
        <>
          {targetFields(c, step.target, target => typed(step).set({ target }), ['node', 'folder', 'endpoint'])}
          {metricFields(typed(step))}
        </>
      );
    case 'deploy': {
      const set = typed(step).set;
      return (
        <>
          {targetFields(c, step.target, target => set({ target }), ['node', 'folder'])}
          <label className="jp-mlprod-check">
            <input type="checkbox" checked={!!step.strict} data-testid={tid('strict')}
              onChange={e => set({ strict: e.target.checked })} />
            strict (refuse a node whose environment differs)
          </label>
          <FieldListErrors errors={errors} prefix={f('strict')} />
          <label className="jp-mlprod-check">
            <input type="checkbox" checked={step.env === 'recreate'} data-testid={tid('env')}
              onChange={e => set({ env: e.target.checked ? 'recreate' : 'compare' })} />
            own environment (the target builds the bundle&apos;s lock)
          </label>
          <FieldListErrors errors={errors} prefix={f('env')} />
        </>
      );
    }
    case 'approve': {
      const set = typed(step).set;
      return (
        <Field label="approvers (comma-separated; empty: anyone)" field={f('approvers')} errors={errors}>
          <ListInput value={step.approvers} testid={tid('approvers')} placeholder="alice, bob"
            onChange={approvers => set({ approvers })} />
        </Field>
      );
    }
    case 'endpoint':
      return endpointFields(typed(step));
    default: {
      // bundle and notify: a message templated with the run and its metrics
      const set = typed(step).set;
      return (
        <Field label={step.kind === 'bundle' ? 'bundle message' : 'message'} field={f('message')} errors={errors}>
          <TextInput value={step.message} testid={tid('message')}
            placeholder={step.kind === 'bundle' ? 'retrained: auc {metrics.auc}' : 'candidate lost: {comparison}'}
            onChange={message => set({ message })} />
        </Field>
      );
    }
  }
}

type TargetKind = 'node' | 'folder' | 'endpoint';

function targetFields(
  c: IStepFieldsContext, current: ITargetRef | undefined, onChange: (t: ITargetRef) => void, kinds: TargetKind[]
): JSX.Element {
  const target: ITargetRef = current ?? {};
  const kind = (kinds.find(k => target[k] !== undefined) ?? kinds[0]) as TargetKind;
  const words: { [k in TargetKind]: string } = { node: 'a node', folder: 'a folder', endpoint: 'an endpoint' };
  return (
    <>
      <Field label="target" field={c.f('target')} errors={c.errors} half>
        <Choice<TargetKind> value={kind} testid={c.tid('target-kind')}
          choices={kinds.map(k => [k, words[k]] as [TargetKind, string])}
          onChange={k => onChange({ [k]: '' })} />
      </Field>
      <Field label={kind} field={c.f(`target.${kind}`)} errors={c.errors} half>
        <TextInput value={target[kind]} testid={c.tid('target')}
          list={kind === 'folder' ? undefined : c.lists[kind]}
          placeholder={kind === 'folder' ? 'deployments/production' : kind === 'node' ? 'prod-1' : 'score'}
          onChange={v => onChange({ [kind]: v })} />
      </Field>
    </>
  );
}

const CONDITIONS: [string, string][] = [
  ['min', 'at least (else ERROR)'],
  ['max', 'at most (else ERROR)'],
  ['warn_below', 'warn below'],
  ['warn_above', 'warn above'],
  ['max_drop', 'drops at most (else ERROR)'],
  ['warn_drop', 'warn on a drop over']
];

function checkFields(c: IStepFieldsContext<StepOf<'check'>>): JSX.Element {
  const checks = c.step.checks ?? [];
  const setChecks = (next: ICheckSpec[]) => c.set({ checks: next });
  const setCheck = (j: number, next: ICheckSpec) => setChecks(checks.map((x, k) => (k === j ? next : x)));
  return (
    <>
      <Field label="" field={c.f('checks')} errors={c.errors}>{null}</Field>
      {checks.map((check, j) => {
        const conditions = Object.keys(check).filter(k => k !== 'metric');
        const unused = CONDITIONS.find(([k]) => !conditions.includes(k));
        return (
          <div key={j} className="jp-mlprod-steprow" data-testid={c.tid(`check-${j}`)}>
            <Field label="metric (step.metric)" field={c.f(`checks[${j}].metric`)} errors={c.errors}>
              <TextInput value={check.metric} testid={c.tid(`check-metric-${j}`)} placeholder="evaluate.auc"
                onChange={metric => setCheck(j, { ...check, metric })} />
            </Field>
            {conditions.map(key => (
              <React.Fragment key={key}>
                <Field label="condition" field={c.f(`checks[${j}]`)} errors={c.errors} half>
                  <Choice value={key} testid={c.tid(`check-cond-${j}-${key}`)}
                    choices={CONDITIONS.filter(([k]) => k === key || !conditions.includes(k))}
                    onChange={nk => {
                      const { [key]: value, ...rest } = check as { [k: string]: unknown };
                      setCheck(j, { ...rest, [nk]: value } as ICheckSpec);
                    }} />
                </Field>
                <Field label="value" field={c.f(`checks[${j}].${key}`)} errors={c.errors} half>
                  <NumberInput value={(check as { [k: string]: unknown })[key] as number} testid={c.tid(`check-value-${j}-${key}`)}
                    onChange={v => setCheck(j, { ...check, [key]: v as number })} />
                </Field>
              </React.Fragment>
            ))}
            <div className="jp-mlprod-toolbar">
              {unused && (
                <button type="button" className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
                  data-testid={c.tid(`check-add-cond-${j}`)}
                  onClick={() => setCheck(j, { ...check, [unused[0]]: 0 })}>+ condition</button>
              )}
              <button type="button" className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
                data-testid={c.tid(`check-remove-${j}`)}
                onClick={() => setChecks(checks.filter((_, k) => k !== j))}>Remove check</button>
            </div>
          </div>
        );
      })}
      <button type="button" className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
        data-testid={c.tid('check-add')}
        onClick={() => setChecks([...checks, { metric: '', min: 0 }])}>+ check</button>
    </>
  );
}

function metricFields(c: IStepFieldsContext<StepOf<'compare'>>): JSX.Element {
  const entries = Object.entries(c.step.metrics ?? {});
  const setEntries = (next: [string, IThreshold][]) => c.set({ metrics: Object.fromEntries(next) });
  const setEntry = (j: number, name: string, t: IThreshold) =>
    setEntries(entries.map((x, k) => (k === j ? [name, t] : x)));
  return (
    <>
      <Field label="" field={c.f('metrics')} errors={c.errors}>{null}</Field>
      <Field label="" field={c.f('metric')} errors={c.errors}>{null}</Field>
      {entries.map(([name, t], j) => {
        const m = (key: string) => c.f(`metrics.${name}${key ? '.' + key : ''}`);
        return (
          <div key={j} className="jp-mlprod-steprow" data-testid={c.tid(`metric-${j}`)}>
            <Field label="metric" field={m('')} errors={c.errors} half>
              <TextInput value={name} testid={c.tid(`metric-name-${j}`)} placeholder="auc"
                onChange={v => setEntry(j, v, t)} />
            </Field>
            <Field label="better is" field={m('greater_is_better')} errors={c.errors} half>
              <Choice value={t.greater_is_better === false ? 'lower' : 'higher'} testid={c.tid(`metric-better-${j}`)}
                choices={[['higher', 'higher'], ['lower', 'lower']]}
                onChange={v => setEntry(j, name, { ...t, greater_is_better: v === 'higher' })} />
            </Field>
            <Field label="min absolute change" field={m('min_absolute_change')} errors={c.errors} half>
              <NumberInput value={t.min_absolute_change} testid={c.tid(`metric-abs-${j}`)}
                onChange={v => setEntry(j, name, { ...t, min_absolute_change: v })} />
            </Field>
            <Field label="min relative change" field={m('min_relative_change')} errors={c.errors} half>
              <NumberInput value={t.min_relative_change} testid={c.tid(`metric-rel-${j}`)}
                onChange={v => setEntry(j, name, { ...t, min_relative_change: v })} />
            </Field>
            <button type="button" className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
              data-testid={c.tid(`metric-remove-${j}`)}
              onClick={() => setEntries(entries.filter((_, k) => k !== j))}>Remove metric</button>
          </div>
        );
      })}
      <button type="button" className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
        data-testid={c.tid('metric-add')}
        onClick={() => setEntries([...entries, ['', { greater_is_better: true }]])}>+ metric</button>
    </>
  );
}

function endpointFields(c: IStepFieldsContext<StepOf<'endpoint'>>): JSX.Element {
  const { step, set, errors, f, tid } = c;
  const after = step.promote_after ?? { requests: 100, max_errors: 0 };
  return (
    <>
      <Field label="endpoint" field={f('endpoint')} errors={errors} half>
        <TextInput value={step.endpoint} testid={tid('endpoint')} placeholder="score" list={c.lists.endpoint}
          onChange={endpoint => set({ endpoint })} />
      </Field>
      <Field label="mode" field={f('mode')} errors={errors} half>
        <Choice value={step.mode} testid={tid('mode')}
          choices={[['canary', 'canary (takes a share of traffic)'], ['shadow', 'shadow (scores a copy, answers nobody)']]}
          onChange={mode => set({ mode })} />
      </Field>
      {step.mode !== 'shadow' && (
        <Field label="weight (%)" field={f('weight')} errors={errors} half>
          <NumberInput value={step.weight} testid={tid('weight')} onChange={weight => set({ weight })} />
        </Field>
      )}
      <Field label="promote after (requests)" field={f('promote_after.requests')} errors={errors} half>
        <NumberInput value={after.requests} testid={tid('promote-requests')}
          onChange={requests => set({ promote_after: { ...after, requests: requests as number } })} />
      </Field>
      <Field label="with at most (errors)" field={f('promote_after.max_errors')} errors={errors} half>
        <NumberInput value={after.max_errors} testid={tid('promote-errors')}
          onChange={max_errors => set({ promote_after: { ...after, max_errors: max_errors as number } })} />
      </Field>
      <Field label="" field={f('promote_after')} errors={errors}>{null}</Field>
    </>
  );
}
