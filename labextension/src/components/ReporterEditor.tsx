import * as React from 'react';

import { IReporter, IValidationError, ReportWhen } from '../types_scenarios';
import { Choice, Field, TextInput } from './fields';

const WHEN: [ReportWhen, string][] = [
  ['always', 'always'],
  ['failure', 'on failure'],
  ['success', 'on success'],
  ['change', 'when the outcome changes'],
  ['warning', 'when a check warns or fails'],
  ['check_failed', 'when a check fails']
];

export function newReporter(type: 'webhook' | 'email'): IReporter {
  return type === 'webhook'
    ? { type, url_env: '', when: 'failure' }
    : { type, to: '', host: '', tls: 'starttls', password_env: '', when: 'failure' };
}

/** One reporter's fields (secrets only by environment variable name). */
export function ReporterEditor(props: {
  index: number;
  reporter: IReporter;
  errors: IValidationError[];
  onChange: (r: IReporter) => void;
  onRemove: () => void;
}): JSX.Element {
  const { index: i, reporter: r, errors } = props;
  const f = (key: string) => `reporters[${i}].${key}`;
  const tid = (key: string) => `mlprod-reporter-${key}-${i}`;
  const set = (patch: Partial<IReporter>) => props.onChange({ ...r, ...patch });
  const byEnv = r.url === undefined;
  const to = Array.isArray(r.to) ? r.to.join(', ') : r.to;

  return (
    <fieldset data-testid={`mlprod-reporter-${i}`}>
      <legend>Reporter {i + 1}</legend>
      <Field label="type" field={`reporters[${i}]`} errors={errors} half>
        <Choice
          value={r.type}
          choices={[
            ['webhook', 'Webhook (Slack-compatible)'],
            ['email', 'E-mail (SMTP)']
          ]}
          testid={tid('type')}
          onChange={type => props.onChange(newReporter(type))}
        />
      </Field>
      <Field label="when" field={f('when')} errors={errors} half>
        <Choice value={r.when} choices={WHEN} testid={tid('when')} onChange={when => set({ when })} />
      </Field>
      {r.type === 'webhook' && (
        <Field label="URL" field={f(byEnv ? 'url_env' : 'url')} errors={errors}>
          <Choice
            value={byEnv ? 'env' : 'url'}
            choices={[
              ['env', 'from an environment variable'],
              ['url', 'http(s) URL']
            ]}
            testid={tid('url-source')}
            onChange={v =>
              props.onChange(
                v === 'env'
                  ? { type: 'webhook', when: r.when, url_env: '' }
                  : { type: 'webhook', when: r.when, url: '' }
              )
            }
          />
          <TextInput
            value={byEnv ? r.url_env : r.url}
            testid={tid(byEnv ? 'url_env' : 'url')}
            placeholder={byEnv ? 'SLACK_WEBHOOK_URL' : 'https://hooks.example.com/…'}
            onChange={v => set(byEnv ? { url_env: v } : { url: v })}
          />
        </Field>
      )}
      {r.type === 'email' && (
        <>
          <Field label="to (comma-separated)" field={f('to')} errors={errors}>
            <TextInput value={to} testid={tid('to')} onChange={v => set({ to: v })} />
          </Field>
          <Field label="from" field={f('from')} errors={errors} half>
            <TextInput value={r.from} testid={tid('from')} onChange={v => set({ from: v || undefined })} />
          </Field>
          <Field label="SMTP host" field={f('host')} errors={errors} half>
            <TextInput value={r.host} testid={tid('host')} onChange={v => set({ host: v })} />
          </Field>
          <Field label="port" field={f('port')} errors={errors} half>
            <TextInput
              value={r.port === undefined ? '' : String(r.port)}
              type="number"
              testid={tid('port')}
              onChange={v => set({ port: v === '' ? undefined : Number(v) })}
            />
          </Field>
          <Field label="TLS" field={f('tls')} errors={errors} half>
            <Choice
              value={r.tls}
              choices={[
                ['starttls', 'STARTTLS'],
                ['ssl', 'SSL'],
                ['none', 'none']
              ]}
              testid={tid('tls')}
              onChange={tls => set({ tls })}
            />
          </Field>
          <Field label="user" field={f('user')} errors={errors} half>
            <TextInput value={r.user} testid={tid('user')} onChange={v => set({ user: v || undefined })} />
          </Field>
          <Field label="password env var" field={f('password_env')} errors={errors} half>
            <TextInput
              value={r.password_env}
              testid={tid('password_env')}
              placeholder="SMTP_PASSWORD"
              onChange={v => set({ password_env: v || undefined })}
            />
          </Field>
        </>
      )}
      <button
        className="jp-Button jp-mod-styled jp-mlprod-secondary"
        data-testid={tid('remove')}
        onClick={props.onRemove}
        type="button"
      >
        Remove reporter
      </button>
    </fieldset>
  );
}
