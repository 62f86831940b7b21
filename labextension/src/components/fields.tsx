import * as React from 'react';

import { IValidationError } from '../types_scenarios';

/** Errors the server reported for exactly this field. */
export function errorsFor(
  errors: IValidationError[],
  field: string
): IValidationError[] {
  return errors.filter(e => e.field === field);
}

/** The server's messages for one field, shown under its input. */
export function FieldErrors(props: {
  errors: IValidationError[];
  field: string;
}): JSX.Element | null {
  const mine = errorsFor(props.errors, props.field);
  if (mine.length === 0) {
    return null;
  }
  return (
    <div
      className="jp-mlprod-field-error"
      role="alert"
      data-testid={`mlprod-field-error-${props.field}`}
    >
      {mine.map((e, i) => (
        <div key={i}>{e.message}</div>
      ))}
    </div>
  );
}

/** A labelled input with its errors; `field` is the spec path the server names. */
export function Field(props: {
  label: string;
  field: string;
  errors: IValidationError[];
  children: React.ReactNode;
  half?: boolean;
}): JSX.Element {
  const invalid = errorsFor(props.errors, props.field).length > 0;
  return (
    <label
      className={
        'jp-mlprod-param' +
        (invalid ? ' jp-mod-invalid' : '') +
        (props.half ? ' jp-mod-half' : '')
      }
      data-field={props.field}
    >
      <span className="jp-mlprod-param-name">{props.label}</span>
      {props.children}
      <FieldErrors errors={props.errors} field={props.field} />
    </label>
  );
}

/** A plain text input bound to a string. */
export function TextInput(props: {
  value: string | undefined;
  onChange: (v: string) => void;
  testid: string;
  placeholder?: string;
  type?: string;
  /** The id of a datalist of suggestions. */
  list?: string;
}): JSX.Element {
  return (
    <input
      className="jp-mod-styled"
      type={props.type ?? 'text'}
      list={props.list}
      value={props.value ?? ''}
      placeholder={props.placeholder}
      data-testid={props.testid}
      onChange={e => props.onChange(e.target.value)}
    />
  );
}

/** A select over fixed choices. */
export function Choice<T extends string>(props: {
  value: T | undefined;
  choices: [T, string][];
  onChange: (v: T) => void;
  testid: string;
}): JSX.Element {
  return (
    <select
      className="jp-mod-styled"
      value={props.value}
      data-testid={props.testid}
      onChange={e => props.onChange(e.target.value as T)}
    >
      {props.choices.map(([v, label]) => (
        <option key={v} value={v}>
          {label}
        </option>
      ))}
    </select>
  );
}

/** A number input bound to a number; empty means absent (undefined). */
export function NumberInput(props: {
  value: number | null | undefined;
  onChange: (v: number | undefined) => void;
  testid: string;
  placeholder?: string;
}): JSX.Element {
  return (
    <TextInput
      type="number"
      value={props.value === null || props.value === undefined ? '' : String(props.value)}
      placeholder={props.placeholder}
      testid={props.testid}
      onChange={v => props.onChange(v === '' ? undefined : Number(v))}
    />
  );
}

/** A JSON object typed as text: sent once it parses; until then, says what to fix. */
export function JsonInput<T = { [key: string]: unknown }>(props: {
  value: unknown;
  onChange: (v: T) => void;
  testid: string;
  placeholder?: string;
  /** What to write, shown while the text is not JSON. */
  example?: string;
}): JSX.Element {
  const [text, setText] = React.useState(() => JSON.stringify(props.value ?? {}));
  const [problem, setProblem] = React.useState<string | null>(null);
  return (
    <>
      <TextInput value={text} testid={props.testid} placeholder={props.placeholder}
        onChange={t => {
          setText(t);
          try {
            const parsed = t.trim() ? JSON.parse(t) : {};
            setProblem(null);
            props.onChange(parsed);
          } catch {
            setProblem(props.example ?? 'write a JSON object, e.g. {"n_rows": 1000}');
          }
        }} />
      {problem && (
        <div className="jp-mlprod-field-error" role="alert" data-testid={`${props.testid}-problem`}>
          {problem}
        </div>
      )}
    </>
  );
}

/** A comma-separated list typed as text: the text stays as typed, the list is sent. */
export function ListInput(props: {
  value: string[] | undefined;
  onChange: (v: string[]) => void;
  testid: string;
  placeholder?: string;
}): JSX.Element {
  const [text, setText] = React.useState(() => (props.value ?? []).join(', '));
  return (
    <TextInput value={text} testid={props.testid} placeholder={props.placeholder}
      onChange={t => {
        setText(t);
        props.onChange(t.split(',').map(a => a.trim()).filter(a => a));
      }} />
  );
}
