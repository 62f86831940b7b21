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
}): JSX.Element {
  return (
    <input
      className="jp-mod-styled"
      type={props.type ?? 'text'}
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
