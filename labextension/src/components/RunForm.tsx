import * as React from 'react';

import { api, ApiError, changed, errorMessage } from '../handler';
import { ErrorBox } from '../format';
import { IParameterSpec, IRun, IStep } from '../types';

type Mode = 'all' | 'subset' | 'from';

/** One input of the form: `key` is what POST runs receives. */
interface IField {
  key: string;
  spec: IParameterSpec;
  steps: string[];
  initial: string | boolean;
}

/** The default value as the input shows it. */
function initialValue(spec: IParameterSpec): string | boolean {
  if (spec.type === 'bool') {
    return Boolean(spec.default);
  }
  if (spec.default === null || spec.default === undefined) {
    return '';
  }
  if (spec.type === 'str') {
    return String(spec.default);
  }
  if (spec.type === 'int' || spec.type === 'float') {
    return String(spec.default);
  }
  return JSON.stringify(spec.default);
}

/**
 * One field per parameter name when every step declaring it agrees on type
 * and default (key `name`, applies to all of them); otherwise one field per
 * step (key `step.name`).
 */
function fieldsOf(steps: IStep[]): IField[] {
  const byName = new Map<string, { step: string; spec: IParameterSpec }[]>();
  for (const step of steps) {
    for (const spec of step.parameters ?? []) {
      const list = byName.get(spec.name) ?? [];
      list.push({ step: step.name, spec });
      byName.set(spec.name, list);
    }
  }
  const fields: IField[] = [];
  for (const [name, list] of byName) {
    const first = list[0].spec;
    const same = list.every(
      d =>
        d.spec.type === first.type &&
        JSON.stringify(d.spec.default) === JSON.stringify(first.default)
    );
    if (same) {
      fields.push({
        key: name,
        spec: first,
        steps: list.map(d => d.step),
        initial: initialValue(first)
      });
    } else {
      for (const d of list) {
        fields.push({
          key: `${d.step}.${name}`,
          spec: d.spec,
          steps: [d.step],
          initial: initialValue(d.spec)
        });
      }
    }
  }
  return fields;
}

/** The value POST runs receives for an edited input (no validation here). */
function valueOf(field: IField, raw: string | boolean): unknown {
  if (typeof raw === 'boolean') {
    return raw;
  }
  switch (field.spec.type) {
    case 'int':
    case 'float':
      return raw.trim() === '' || isNaN(Number(raw)) ? raw : Number(raw);
    case 'str':
      return raw;
    default:
      try {
        return JSON.parse(raw);
      } catch {
        return raw;
      }
  }
}

export interface IRunFormProps {
  steps: IStep[];
  onStarted: (run: IRun) => void;
  onClose: () => void;
}

/** "Run pipeline" form: selection, force, typed parameters. */
export function RunForm(props: IRunFormProps): JSX.Element {
  const [mode, setMode] = React.useState<Mode>('all');
  const [subset, setSubset] = React.useState<Set<string>>(new Set());
  const [from, setFrom] = React.useState<string>(props.steps[0]?.name ?? '');
  const [force, setForce] = React.useState(false);
  const [edits, setEdits] = React.useState<{ [key: string]: string | boolean }>(
    {}
  );
  const [error, setError] = React.useState<ApiError | string | null>(null);
  const [busy, setBusy] = React.useState(false);
  const errorRef = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => {
    if (error) {
      errorRef.current?.scrollIntoView({ block: 'nearest' });
    }
  }, [error]);

  const fields = React.useMemo(
    () =>
      fieldsOf(
        mode === 'subset'
          ? props.steps.filter(s => subset.has(s.name))
          : props.steps
      ),
    [mode, subset, props.steps]
  );

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    const parameters: { [key: string]: unknown } = {};
    for (const field of fields) {
      if (field.key in edits && edits[field.key] !== field.initial) {
        parameters[field.key] = valueOf(field, edits[field.key]);
      }
    }
    setBusy(true);
    setError(null);
    try {
      const run = await api.startRun({
        steps: mode === 'subset' ? [...subset] : null,
        from: mode === 'from' ? from : null,
        parameters,
        force
      });
      changed.emit('run');
      props.onStarted(run);
    } catch (err) {
      setError(err instanceof ApiError ? err : errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const badField = error instanceof ApiError ? error.field : null;
  const isBad = (key: string) =>
    !!badField &&
    (badField === key ||
      badField.endsWith(`.${key}`) ||
      badField === `parameters.${key}`);

  return (
    <form
      className="jp-mlprod-form jp-mlprod-runform"
      data-testid="mlprod-run-form"
      noValidate
      onSubmit={submit}
    >
      <div ref={errorRef}>
        <ErrorBox
          error={error instanceof ApiError ? error.message : error}
          testid="mlprod-run-error"
        />
      </div>
      <fieldset>
        <legend>Steps</legend>
        {(['all', 'subset', 'from'] as Mode[]).map(m => (
          <label key={m} className="jp-mlprod-radio">
            <input
              type="radio"
              name="mlprod-mode"
              value={m}
              checked={mode === m}
              data-testid={`mlprod-run-mode-${m}`}
              onChange={() => setMode(m)}
            />
            {m === 'all' ? 'All steps' : m === 'subset' ? 'Only these' : 'From a step'}
          </label>
        ))}
        {mode === 'subset' && (
          <div className="jp-mlprod-subset">
            {props.steps.map(s => (
              <label key={s.name} className="jp-mlprod-check">
                <input
                  type="checkbox"
                  data-testid={`mlprod-run-step-${s.name}`}
                  checked={subset.has(s.name)}
                  onChange={e => {
                    const next = new Set(subset);
                    e.target.checked ? next.add(s.name) : next.delete(s.name);
                    setSubset(next);
                  }}
                />
                {s.name}
              </label>
            ))}
          </div>
        )}
        {mode === 'from' && (
          <select
            className="jp-mod-styled"
            data-testid="mlprod-run-from"
            value={from}
            onChange={e => setFrom(e.target.value)}
          >
            {props.steps.map(s => (
              <option key={s.name} value={s.name}>
                {s.name}
              </option>
            ))}
          </select>
        )}
        <label className="jp-mlprod-check">
          <input
            type="checkbox"
            data-testid="mlprod-run-force"
            checked={force}
            onChange={e => setForce(e.target.checked)}
          />
          Force (re-run steps that are up to date)
        </label>
      </fieldset>
      <fieldset>
        <legend>Parameters</legend>
        {fields.length === 0 && (
          <div className="jp-mlprod-hint">No parameters declared.</div>
        )}
        {fields.map(field => (
          <ParameterInput
            key={field.key}
            field={field}
            value={field.key in edits ? edits[field.key] : field.initial}
            invalid={isBad(field.key)}
            onChange={v => setEdits({ ...edits, [field.key]: v })}
          />
        ))}
      </fieldset>
      <div className="jp-mlprod-actions">
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mlprod-secondary"
          data-testid="mlprod-run-cancel"
          onClick={props.onClose}
        >
          Cancel
        </button>
        <button
          type="submit"
          className="jp-Button jp-mod-styled jp-mod-accept"
          data-testid="mlprod-run-submit"
          disabled={busy || (mode === 'subset' && subset.size === 0)}
        >
          {busy ? 'Starting…' : 'Start run'}
        </button>
      </div>
    </form>
  );
}

function ParameterInput(props: {
  field: IField;
  value: string | boolean;
  invalid: boolean;
  onChange: (value: string | boolean) => void;
}): JSX.Element {
  const { field, value } = props;
  const { spec } = field;
  const id = `mlprod-param-${field.key}`;
  const title =
    `${spec.type}, default ${JSON.stringify(spec.default)}` +
    (field.steps.length ? ` — used by ${field.steps.join(', ')}` : '') +
    (spec.help ? `\n${spec.help}` : '');
  let input: JSX.Element;
  if (spec.type === 'bool') {
    input = (
      <input
        id={id}
        type="checkbox"
        data-testid={id}
        checked={value as boolean}
        onChange={e => props.onChange(e.target.checked)}
      />
    );
  } else {
    const numeric = spec.type === 'int' || spec.type === 'float';
    input = (
      <input
        id={id}
        className="jp-mod-styled"
        data-testid={id}
        type={numeric ? 'number' : 'text'}
        step={spec.type === 'int' ? 1 : numeric ? 'any' : undefined}
        value={value as string}
        placeholder={numeric || spec.type === 'str' ? '' : 'JSON'}
        onChange={e => props.onChange(e.target.value)}
      />
    );
  }
  return (
    <div
      className={'jp-mlprod-param' + (props.invalid ? ' jp-mod-invalid' : '')}
      title={title}
    >
      <label htmlFor={id}>
        <span className="jp-mlprod-param-name">{field.key}</span>
        <span className="jp-mlprod-param-type">{spec.type}</span>
      </label>
      {input}
      <div className="jp-mlprod-hint">
        default {JSON.stringify(spec.default)}
        {field.steps.length > 1 ? ` · ${field.steps.join(', ')}` : ''}
        {spec.help ? ` · ${spec.help}` : ''}
      </div>
    </div>
  );
}
