import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { api, ApiError, changed, errorMessage } from '../handler';
import { ErrorBox } from '../format';
import { IParameterSpec, IStepDeclaration } from '../types';
import { ICheck } from '../types_metrics';

/** The form as typed (strings), turned into a declaration on save. */
interface IDraft {
  name: string;
  inputs: string;
  outputs: string;
  after: string;
  timeout: string;
  retries: string;
  /** One check per line, each a JSON object (the server validates them). */
  checks: string;
}

function toDraft(step: IStepDeclaration | null, path: string): IDraft {
  if (!step) {
    return {
      name: PathExt.basename(path, PathExt.extname(path)),
      inputs: '',
      outputs: '',
      after: '',
      timeout: '',
      retries: '0',
      checks: ''
    };
  }
  return {
    name: step.name,
    inputs: step.inputs.join('\n'),
    outputs: step.outputs.join('\n'),
    after: step.after.join(', '),
    timeout: step.timeout === null ? '' : String(step.timeout),
    retries: String(step.retries),
    checks: (step.checks ?? []).map(c => JSON.stringify(c)).join('\n')
  };
}

function checks(text: string): ICheck[] {
  return text
    .split('\n')
    .map(s => s.trim())
    .filter(s => s.length > 0)
    .map((line, i) => {
      try {
        return JSON.parse(line) as ICheck;
      } catch {
        throw new Error(
          `Check ${i + 1} is not a JSON object: ${line} (e.g. {"metric": "roc_auc", "min": 0.8})`
        );
      }
    });
}

function list(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map(s => s.trim())
    .filter(s => s.length > 0);
}

function num(text: string): number | null {
  const t = text.trim();
  return t === '' ? null : Number(t);
}

function fromDraft(d: IDraft, keep: IStepDeclaration | null): IStepDeclaration {
  return {
    ...(keep?.probes !== undefined ? { probes: keep.probes } : {}),
    checks: checks(d.checks),
    name: d.name.trim(),
    inputs: list(d.inputs),
    outputs: list(d.outputs),
    after: list(d.after),
    timeout: num(d.timeout),
    retries: num(d.retries) ?? 0
  };
}

const FIELDS: {
  key: keyof IDraft;
  label: string;
  hint: string;
  multiline?: boolean;
}[] = [
  { key: 'name', label: 'Step name', hint: 'unique in the project' },
  {
    key: 'inputs',
    label: 'Inputs',
    hint: 'files this step reads, one per line (relative to the project)',
    multiline: true
  },
  {
    key: 'outputs',
    label: 'Outputs',
    hint: 'files this step writes, one per line',
    multiline: true
  },
  { key: 'after', label: 'After', hint: 'step names, comma-separated' },
  { key: 'timeout', label: 'Timeout (s)', hint: 'empty: project default' },
  { key: 'retries', label: 'Retries', hint: 'extra attempts' },
  {
    key: 'checks',
    label: 'Checks',
    hint: 'one per line, e.g. {"metric": "roc_auc", "min": 0.8, "warn_below": 0.85}; also max, warn_above, max_drop (vs the last good run)',
    multiline: true
  }
];

class StepForm extends ReactWidget {
  constructor(
    private draft: IDraft,
    private readonly parameters: IParameterSpec[],
    private readonly error: ApiError | string | null
  ) {
    super();
    this.addClass('jp-mlprod-stepdialog');
  }

  getValue(): IDraft {
    return this.draft;
  }

  protected render(): JSX.Element {
    return (
      <StepFormBody
        initial={this.draft}
        parameters={this.parameters}
        error={this.error}
        onChange={d => (this.draft = d)}
      />
    );
  }
}

function StepFormBody(props: {
  initial: IDraft;
  parameters: IParameterSpec[];
  error: ApiError | string | null;
  onChange: (d: IDraft) => void;
}): JSX.Element {
  const [draft, setDraft] = React.useState(props.initial);
  const set = (key: keyof IDraft, value: string) => {
    const next = { ...draft, [key]: value };
    setDraft(next);
    props.onChange(next);
  };
  const raw = props.error instanceof ApiError ? props.error.field : null;
  // The server names the step `step` (its alias of `name`).
  const field = raw === 'step' ? 'name' : raw?.replace(/^step\./, '') ?? null;
  const message =
    props.error instanceof ApiError ? props.error.message : props.error;
  return (
    <div className="jp-mlprod-form" data-testid="mlprod-step-dialog">
      <ErrorBox error={message} testid="mlprod-step-error" />
      <div className="jp-mlprod-param">
        <span className="jp-mlprod-param-name">Parameters</span>
        <div className="jp-mlprod-hint" data-testid="mlprod-step-parameters">
          {props.parameters.length === 0
            ? 'none (tag a cell “parameters” to declare some)'
            : props.parameters
                .map(p => `${p.name}: ${p.type} = ${JSON.stringify(p.default)}`)
                .join(' · ')}
        </div>
      </div>
      {FIELDS.map(f => {
        const id = `mlprod-step-${f.key}`;
        const common = {
          id,
          'data-testid': id,
          className:
            'jp-mod-styled' +
            (field &&
            (field === f.key ||
              field.startsWith(`${f.key}.`) ||
              field.startsWith(`${f.key}[`))
              ? ' jp-mod-invalid'
              : ''),
          value: draft[f.key]
        };
        return (
          <div
            key={f.key}
            className={
              'jp-mlprod-param' +
              (f.key === 'timeout' || f.key === 'retries' ? ' jp-mod-half' : '')
            }
          >
            <label htmlFor={id}>
              <span className="jp-mlprod-param-name">{f.label}</span>
            </label>
            {f.multiline ? (
              <textarea
                {...common}
                rows={2}
                onChange={e => set(f.key, e.target.value)}
              />
            ) : (
              <input
                {...common}
                type={f.key === 'timeout' || f.key === 'retries' ? 'number' : 'text'}
                onChange={e => set(f.key, e.target.value)}
              />
            )}
            <div className="jp-mlprod-hint">{f.hint}</div>
          </div>
        );
      })}
    </div>
  );
}

/**
 * Tag, edit or untag the notebook at `path` as a pipeline step.
 * The dialog reopens with the server's message until saved or cancelled.
 */
export async function editStep(path: string): Promise<void> {
  let current;
  try {
    current = await api.getStep(path);
  } catch (err) {
    await showDialog({
      title: 'MLProd: cannot read the step',
      body: errorMessage(err),
      buttons: [Dialog.okButton()]
    });
    return;
  }
  let draft = toDraft(current.step, path);
  let error: ApiError | string | null = null;
  const tagged = current.step !== null;

  for (;;) {
    const buttons = [Dialog.cancelButton()];
    if (tagged) {
      buttons.push(Dialog.warnButton({ label: 'Untag', accept: false }));
    }
    buttons.push(Dialog.okButton({ label: tagged ? 'Save' : 'Tag as step' }));
    const dialog = new Dialog<IDraft>({
      title: `${tagged ? 'Edit' : 'Tag'} pipeline step — ${path}`,
      body: new StepForm(draft, current.parameters ?? [], error),
      buttons,
      focusNodeSelector: 'input'
    });
    dialog.addClass('jp-mlprod-dialog');
    const result = await dialog.launch();
    const label = result.button.label;
    if (result.value) {
      draft = result.value;
    }
    try {
      if (label === 'Untag') {
        await api.deleteStep(path);
        Notification.success(`${path} is no longer a pipeline step.`, {
          autoClose: 3000
        });
      } else if (result.button.accept) {
        const saved = await api.putStep(path, fromDraft(draft, current.step));
        Notification.success(
          `${path} is the pipeline step “${saved.step?.name ?? draft.name}”.`,
          { autoClose: 3000 }
        );
      } else {
        return;
      }
      changed.emit('step');
      return;
    } catch (err) {
      error = err instanceof ApiError ? err : errorMessage(err);
    }
  }
}
