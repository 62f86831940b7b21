import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { scenarioApi } from '../api_scenarios';
import { api, ApiError, errorMessage } from '../handler';
import { ErrorBox } from '../format';
import {
  IReporter,
  IScenario,
  IScenarioSpec,
  IScenarioValidation,
  ITrigger,
  IValidationError
} from '../types_scenarios';
import { changedPaths, concerns } from '../touched';
import { Choice, Field, TextInput } from './fields';
import { FieldListErrors, RunSelectionFields } from './RunSelection';
import { StepListEditor } from './StepListEditor';
import { newReporter, ReporterEditor } from './ReporterEditor';
import { newTrigger, TriggerEditor } from './TriggerEditor';

const DEBOUNCE_MS = 300;

function initial(s: IScenario | null): IScenarioSpec {
  if (s) {
    return {
      name: s.name,
      description: s.description,
      enabled: s.enabled,
      triggers: s.triggers,
      run: s.run,
      ...(s.steps?.length ? { steps: s.steps } : {}),
      reporters: s.reporters,
      policies: s.policies,
      version: s.version
    };
  }
  return {
    name: '',
    enabled: true,
    triggers: [newTrigger('cron')],
    run: { steps: null, from: null, parameters: {}, force: false },
    reporters: [],
    policies: { misfire: 'catch_up_once', overlap: 'skip' }
  };
}

/** Blank lines of multi-line inputs are not sent. */
function clean(spec: IScenarioSpec, paramsText: string): [IScenarioSpec, string | null] {
  const triggers = spec.triggers.map(t =>
    Array.isArray(t.paths) ? { ...t, paths: t.paths.filter(p => p.trim()) } : t
  );
  let parameters: unknown = {};
  let bad: string | null = null;
  try {
    parameters = paramsText.trim() ? JSON.parse(paramsText) : {};
  } catch {
    bad = 'parameters: write a JSON object, e.g. {"n_rows": 1000}';
  }
  return [{ ...spec, triggers, run: { ...spec.run, parameters: parameters as any } }, bad];
}

export interface IScenarioFormProps {
  scenario: IScenario | null;
  scenarioNames: string[];
  onSaved: (s: IScenario) => void;
  onCancel: () => void;
}

/** Create or edit a scenario; the server validates as you type. */
export function ScenarioForm(props: IScenarioFormProps): JSX.Element {
  const [spec, setSpec] = React.useState<IScenarioSpec>(() => initial(props.scenario));
  const [paramsText, setParamsText] = React.useState(() =>
    JSON.stringify(props.scenario?.run?.parameters ?? {})
  );
  const [steps, setSteps] = React.useState<string[]>([]);
  const [check, setCheck] = React.useState<IScenarioValidation | null>(null);
  const [saveError, setSaveError] = React.useState<ApiError | string | null>(null);
  const [saving, setSaving] = React.useState(false);
  const [attempted, setAttempted] = React.useState(false);
  const [checkedJson, setCheckedJson] = React.useState<string | null>(null);
  const seq = React.useRef(0);
  const currentId = props.scenario?.id ?? null;

  React.useEffect(() => {
    api.pipeline().then(p => setSteps(p.steps.map(s => s.name))).catch(() => undefined);
  }, []);

  const [sent, paramsProblem] = clean(spec, paramsText);
  const sentJson = JSON.stringify(sent);
  const opened = React.useRef({ json: sentJson, params: paramsText });
  const firstRender = React.useRef(true);
  React.useEffect(() => {
    if (!firstRender.current) {
      setSaveError(null); // the refused spec was edited
    }
    firstRender.current = false;
    const mine = ++seq.current;
    const handle = window.setTimeout(() => {
      scenarioApi
        .validate(JSON.parse(sentJson), currentId)
        .then(v => {
          if (mine === seq.current) {
            setCheck(v);
            setCheckedJson(sentJson);
          }
        })
        .catch(err => mine === seq.current && setSaveError(errorMessage(err)));
    }, DEBOUNCE_MS);
    return () => window.clearTimeout(handle);
  }, [sentJson, currentId]);

  const allErrors: IValidationError[] = [...(check?.errors ?? [])];
  // Shown: errors of fields typed in (all of them once Save was pressed, or when editing a
  // stored scenario), except a field edited since the server's last check (its error is stale).
  const touched = changedPaths(JSON.parse(opened.current.json), sent);
  if (paramsText !== opened.current.params) {
    touched.push('run.parameters');
  }
  // A step's errors show once anything in that step was typed (a new step names fields
  // the person has not reached yet, e.g. `steps[2].metric`).
  touched.push(...touched.filter(p => p.startsWith('steps[')).map(p => p.slice(0, p.indexOf(']') + 1)));
  const sinceCheck = checkedJson ? changedPaths(JSON.parse(checkedJson), sent) : [];
  const showAll = attempted || currentId !== null;
  const errors = allErrors.filter(
    e => (showAll || touched.some(p => concerns(p, e.field))) &&
      !sinceCheck.some(p => concerns(p, e.field))
  );
  if (paramsProblem) {
    allErrors.push({ field: 'run.parameters', message: paramsProblem });
    if (showAll || touched.includes('run.parameters')) {
      errors.push(allErrors[allErrors.length - 1]);
    }
  }
  if (saveError instanceof ApiError && saveError.field) {
    if (!errors.some(e => e.field === saveError.field)) {
      errors.push({ field: saveError.field, message: saveError.message });
      allErrors.push(errors[errors.length - 1]);
    }
  }

  const run = spec.run ?? {};
  const setRun = (patch: object) => setSpec({ ...spec, run: { ...run, ...patch } });
  const setTrigger = (i: number, t: ITrigger) =>
    setSpec({ ...spec, triggers: spec.triggers.map((x, j) => (j === i ? t : x)) });
  const reporters = spec.reporters ?? [];
  const setReporters = (r: IReporter[]) => setSpec({ ...spec, reporters: r });
  const policies = spec.policies ?? {};

  const save = async () => {
    setAttempted(true);
    if (paramsProblem) {
      setSaveError(paramsProblem);
      return;
    }
    setSaving(true);
    setSaveError(null);
    try {
      const saved = currentId
        ? await scenarioApi.update(currentId, sent)
        : await scenarioApi.create(sent);
      props.onSaved(saved);
    } catch (err) {
      setSaveError(err instanceof ApiError ? err : errorMessage(err));
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    const answer = await showDialog({
      title: `Remove scenario ${props.scenario!.name}?`,
      body: 'Its history of fires goes too; its runs stay.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Remove' })]
    });
    if (!answer.button.accept) {
      return;
    }
    try {
      await scenarioApi.remove(currentId!);
      props.onSaved(props.scenario!);
    } catch (err) {
      setSaveError(errorMessage(err));
    }
  };

  const saveText =
    saveError instanceof ApiError
      ? (saveError.field ? `${saveError.field}: ` : '') + saveError.message
      : saveError;

  return (
    <div className="jp-mlprod-view jp-mlprod-form jp-mlprod-scenarioform" data-testid="mlprod-scenario-form">
      <div className="jp-mlprod-title">{currentId ? `Edit ${props.scenario!.name}` : 'New scenario'}</div>
      <Field label="name" field="name" errors={errors}>
        <TextInput value={spec.name} testid="mlprod-scenario-name" placeholder="nightly-train"
          onChange={name => setSpec({ ...spec, name })} />
      </Field>
      <Field label="description" field="description" errors={errors}>
        <TextInput value={spec.description} testid="mlprod-scenario-description"
          onChange={description => setSpec({ ...spec, description })} />
      </Field>
      <label className="jp-mlprod-check">
        <input type="checkbox" checked={spec.enabled !== false} data-testid="mlprod-scenario-enabled"
          onChange={e => setSpec({ ...spec, enabled: e.target.checked })} />
        enabled
      </label>
      <Field label="" field="triggers" errors={errors}>{null}</Field>
      {spec.triggers.map((t, i) => (
        <TriggerEditor key={i} index={i} trigger={t} errors={errors}
          preview={check?.triggers.find(p => p.index === i)}
          scenarios={props.scenarioNames.filter(n => n !== props.scenario?.name)}
          onChange={nt => setTrigger(i, nt)}
          onRemove={spec.triggers.length > 1
            ? () => setSpec({ ...spec, triggers: spec.triggers.filter((_, j) => j !== i) })
            : null} />
      ))}
      <button type="button" className="jp-Button jp-mod-styled jp-mlprod-secondary"
        data-testid="mlprod-add-trigger"
        onClick={() => setSpec({ ...spec, triggers: [...spec.triggers, newTrigger('interval')] })}>
        + trigger
      </button>
      {!spec.steps?.length && (
        <fieldset data-testid="mlprod-scenario-run">
          <legend>What to run</legend>
          <RunSelectionFields selection={run} pipelineSteps={steps} errors={errors}
            onChange={setRun} modeField="run" field={k => `run.${k}`}
            testid={k => `mlprod-scenario-${k}`} />
          <Field label="parameters (JSON)" field="run.parameters" errors={errors}>
            <TextInput value={paramsText} testid="mlprod-scenario-parameters" onChange={setParamsText} />
          </Field>
          <FieldListErrors errors={errors} prefix="run.parameters." />
        </fieldset>
      )}
      <StepListEditor steps={spec.steps ?? []} errors={errors} pipelineSteps={steps}
        onChange={next => setSpec({ ...spec, steps: next })} />
      {reporters.map((r, i) => (
        <ReporterEditor key={i} index={i} reporter={r} errors={errors}
          onChange={nr => setReporters(reporters.map((x, j) => (j === i ? nr : x)))}
          onRemove={() => setReporters(reporters.filter((_, j) => j !== i))} />
      ))}
      <div className="jp-mlprod-toolbar">
        <button type="button" className="jp-Button jp-mod-styled jp-mlprod-secondary"
          data-testid="mlprod-add-webhook" onClick={() => setReporters([...reporters, newReporter('webhook')])}>
          + webhook
        </button>
        <button type="button" className="jp-Button jp-mod-styled jp-mlprod-secondary"
          data-testid="mlprod-add-email" onClick={() => setReporters([...reporters, newReporter('email')])}>
          + e-mail
        </button>
      </div>
      <fieldset data-testid="mlprod-scenario-policies">
        <legend>Policies</legend>
        <Field label="after downtime" field="policies.misfire" errors={errors}>
          <Choice value={policies.misfire} testid="mlprod-scenario-misfire"
            choices={[['catch_up_once', 'catch up once'], ['skip', 'skip missed fires']]}
            onChange={misfire => setSpec({ ...spec, policies: { ...policies, misfire } })} />
        </Field>
        <Field label="if still running" field="policies.overlap" errors={errors}>
          <Choice value={policies.overlap} testid="mlprod-scenario-overlap"
            choices={[['skip', 'skip this fire'], ['queue', 'queue it']]}
            onChange={overlap => setSpec({ ...spec, policies: { ...policies, overlap } })} />
        </Field>
      </fieldset>
      <div className="jp-mlprod-hint" data-testid="mlprod-scenario-validity"
        data-valid={check ? String(check.valid && allErrors.length === 0) : 'unknown'}>
        {!check ? 'checking…' : check.valid && allErrors.length === 0 ? '✓ valid'
          : errors.length ? `${errors.length} problem${errors.length === 1 ? '' : 's'} to fix`
            : 'fill in the form; problems show as you type'}
      </div>
      <ErrorBox error={saveText} testid="mlprod-scenario-save-error" />
      <div className="jp-mlprod-actions">
        {currentId && (
          <button type="button" className="jp-Button jp-mod-styled jp-mod-warn"
            data-testid="mlprod-scenario-delete" onClick={() => void remove()}>Remove</button>
        )}
        <button type="button" className="jp-Button jp-mod-styled jp-mlprod-secondary"
          data-testid="mlprod-scenario-cancel" onClick={props.onCancel}>Cancel</button>
        <button type="button" className="jp-Button jp-mod-styled jp-mod-accept"
          data-testid="mlprod-scenario-save" disabled={saving} onClick={() => void save()}>
          {saving ? 'Saving…' : 'Save'}
        </button>
      </div>
    </div>
  );
}
