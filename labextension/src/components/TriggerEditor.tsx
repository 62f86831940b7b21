import * as React from 'react';

import { formatTime } from '../format';
import {
  ITrigger,
  ITriggerPreview,
  IValidationError,
  TriggerType
} from '../types_scenarios';
import { Choice, Field, JsonInput, TextInput } from './fields';

const TYPES: [TriggerType, string][] = [
  ['cron', 'Cron (time of day)'],
  ['interval', 'Fixed interval'],
  ['files', 'Files change'],
  ['sql', 'SQL result changes'],
  ['run_finished', 'Another scenario finishes'],
  ['manual', 'Manual only'],
  ['drift', 'Endpoint drift checks fail']
];

/** A fresh trigger of a type, with example values (the server checks them). */
export function newTrigger(type: TriggerType): ITrigger {
  switch (type) {
    case 'cron':
      return { type, cron: '0 6 * * *', timezone: 'UTC' };
    case 'interval':
      return { type, every: '15m' };
    case 'files':
      return { type, paths: [''] };
    case 'sql':
      return { type, url_env: '', query: '' };
    case 'run_finished':
      return { type, scenario: '', on: 'success' };
    case 'drift':
      return {
        type, endpoint: '', window: '1000', poll: 300,
        checks: [{ metric: 'drift:dataset:drift', max: 0 }]
      };
    default:
      return { type };
  }
}

export interface ITriggerEditorProps {
  index: number;
  trigger: ITrigger;
  preview: ITriggerPreview | undefined;
  errors: IValidationError[];
  scenarios: string[];
  onChange: (t: ITrigger) => void;
  onRemove: (() => void) | null;
}

/** One trigger's fields, its meaning in words and its next fire times. */
export function TriggerEditor(props: ITriggerEditorProps): JSX.Element {
  const { index: i, trigger: t, errors } = props;
  const f = (key: string) => `triggers[${i}].${key}`;
  const tid = (key: string) => `mlprod-trigger-${key}-${i}`;
  const set = (patch: Partial<ITrigger>) => props.onChange({ ...t, ...patch });
  const paths = Array.isArray(t.paths) ? t.paths : t.paths ? [t.paths] : [];
  const sqlByEnv = t.url === undefined;

  return (
    <fieldset data-testid={`mlprod-trigger-${i}`}>
      <legend>Trigger {i + 1}</legend>
      <Field label="type" field={`triggers[${i}]`} errors={errors}>
        <Choice
          value={t.type}
          choices={TYPES}
          testid={tid('type')}
          onChange={type => props.onChange(newTrigger(type))}
        />
      </Field>
      {t.type === 'cron' && (
        <>
          <Field label="cron" field={f('cron')} errors={errors} half>
            <TextInput
              value={t.cron}
              testid={tid('cron')}
              placeholder="min hour day month weekday"
              onChange={cron => set({ cron })}
            />
          </Field>
          <Field label="time zone" field={f('timezone')} errors={errors} half>
            <TextInput
              value={t.timezone}
              testid={tid('timezone')}
              placeholder="UTC, Europe/Paris…"
              onChange={timezone => set({ timezone })}
            />
          </Field>
        </>
      )}
      {t.type === 'interval' && (
        <Field label="every" field={f('every')} errors={errors}>
          <TextInput
            value={t.every === undefined ? '' : String(t.every)}
            testid={tid('every')}
            placeholder="90s, 15m, 1h30m, 2d or seconds"
            onChange={every => set({ every })}
          />
        </Field>
      )}
      {t.type === 'files' && (
        <Field label="paths or globs (one a line)" field={f('paths')} errors={errors}>
          <textarea
            className="jp-mod-styled"
            rows={3}
            value={paths.join('\n')}
            data-testid={tid('paths')}
            onChange={e => set({ paths: e.target.value.split('\n') })}
          />
        </Field>
      )}
      {t.type === 'sql' && (
        <>
          <Field label="database" field={f(sqlByEnv ? 'url_env' : 'url')} errors={errors}>
            <Choice
              value={sqlByEnv ? 'env' : 'url'}
              choices={[
                ['env', 'URL from an environment variable'],
                ['url', 'SQLAlchemy URL']
              ]}
              testid={tid('sql-source')}
              onChange={v =>
                props.onChange(
                  v === 'env'
                    ? { type: 'sql', url_env: '', query: t.query, poll: t.poll }
                    : { type: 'sql', url: '', query: t.query, poll: t.poll }
                )
              }
            />
            <TextInput
              value={sqlByEnv ? t.url_env : t.url}
              testid={tid(sqlByEnv ? 'url_env' : 'url')}
              placeholder={sqlByEnv ? 'ORDERS_DB_URL' : 'postgresql://user@host/db'}
              onChange={v => set(sqlByEnv ? { url_env: v } : { url: v })}
            />
          </Field>
          <Field label="query" field={f('query')} errors={errors}>
            <textarea
              className="jp-mod-styled"
              rows={2}
              value={t.query ?? ''}
              data-testid={tid('query')}
              onChange={e => set({ query: e.target.value })}
            />
          </Field>
        </>
      )}
      {t.type === 'run_finished' && (
        <>
          <Field label="after scenario" field={f('scenario')} errors={errors} half>
            <Choice
              value={t.scenario}
              choices={[['', '—'], ...props.scenarios.map(s => [s, s] as [string, string])]}
              testid={tid('scenario')}
              onChange={scenario => set({ scenario })}
            />
          </Field>
          <Field label="on" field={f('on')} errors={errors} half>
            <Choice
              value={t.on}
              choices={[
                ['success', 'success'],
                ['failure', 'failure'],
                ['any', 'any outcome']
              ]}
              testid={tid('on')}
              onChange={on => set({ on })}
            />
          </Field>
        </>
      )}
      {t.type === 'drift' && (
        <>
          <Field label="endpoint" field={f('endpoint')} errors={errors} half>
            <TextInput value={t.endpoint} testid={tid('endpoint')}
              onChange={endpoint => set({ endpoint })} />
          </Field>
          <Field label="window" field={f('window')} errors={errors} half>
            <TextInput value={t.window} testid={tid('window')}
              placeholder="1000 (requests) or 1h" onChange={window => set({ window })} />
          </Field>
          <Field label="checks (JSON list)" field={f('checks')} errors={errors}>
            <JsonInput<unknown[]> value={t.checks ?? []} testid={tid('checks')}
              example={'write a JSON list, e.g. [{"metric": "drift:income:psi", "max": 0.25}]'}
              onChange={checks => set({ checks })} />
          </Field>
        </>
      )}
      <TriggerPreview index={i} preview={props.preview} />
      {props.onRemove && (
        <button
          className="jp-Button jp-mod-styled jp-mlprod-secondary"
          data-testid={tid('remove')}
          onClick={props.onRemove}
          type="button"
        >
          Remove trigger
        </button>
      )}
    </fieldset>
  );
}

function TriggerPreview(props: {
  index: number;
  preview: ITriggerPreview | undefined;
}): JSX.Element | null {
  const p = props.preview;
  if (!p || !p.description) {
    return null;
  }
  return (
    <div className="jp-mlprod-preview" data-testid={`mlprod-trigger-words-${props.index}`}>
      <strong>{p.description}</strong>
      {p.next.length > 0 && (
        <div className="jp-mlprod-hint" data-testid={`mlprod-trigger-next-${props.index}`}>
          next: {p.next.map(n => formatTime(n)).join(' · ')}
        </div>
      )}
    </div>
  );
}
