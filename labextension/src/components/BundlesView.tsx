import * as React from 'react';

import { bundleApi } from '../api_bundles';
import { errorMessage } from '../handler';
import { ErrorBox, formatBytes, formatTime } from '../format';
import {
  IBundle,
  IBundlePreview,
  IBundleSummary,
  IBundleVerification
} from '../types_bundles';
import { BundleDiffView } from './BundleDiff';
import { Deployments } from './Deployments';

/** Bundles tab: create (with a preview), list, diff two, verify, deploy and roll back. */
export function BundlesView(): JSX.Element {
  const [bundles, setBundles] = React.useState<IBundleSummary[] | null>(null);
  const [selected, setSelected] = React.useState<string[]>([]);
  const [diff, setDiff] = React.useState<[string, string] | null>(null);
  const [verified, setVerified] = React.useState<{ [id: string]: IBundleVerification | 'busy' }>({});
  const [error, setError] = React.useState<string | null>(null);

  const load = React.useCallback(async () => {
    try {
      setBundles((await bundleApi.list()).bundles);
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, []);
  React.useEffect(() => void load(), [load]);

  const toggle = (id: string, on: boolean) =>
    setSelected(cur => (on ? [...cur.filter(x => x !== id), id].slice(-2) : cur.filter(x => x !== id)));

  const verify = async (id: string) => {
    setVerified(v => ({ ...v, [id]: 'busy' }));
    try {
      const result = await bundleApi.verify(id);
      setVerified(v => ({ ...v, [id]: result }));
    } catch (err) {
      setVerified(v => ({ ...v, [id]: undefined as any }));
      setError(errorMessage(err));
    }
  };

  if (diff) {
    return <BundleDiffView a={diff[0]} b={diff[1]} onBack={() => setDiff(null)} />;
  }
  // older first: the list is newest first
  const order = (ids: string[]): [string, string] => {
    const pos = (id: string) => (bundles ?? []).findIndex(b => b.id === id);
    const [x, y] = ids;
    return pos(x) > pos(y) ? [x, y] : [y, x];
  };

  return (
    <div className="jp-mlprod-view" data-testid="mlprod-bundles-view">
      <CreateBundle onCreated={() => void load()} />
      <div className="jp-mlprod-toolbar">
        <span className="jp-mlprod-title">Bundles</span>
        <button className="jp-Button jp-mod-styled jp-mlprod-secondary" data-testid="mlprod-bundles-refresh"
          onClick={() => void load()}>Refresh</button>
        <button className="jp-Button jp-mod-styled jp-mlprod-secondary" data-testid="mlprod-bundles-diff"
          disabled={selected.length !== 2} title="Select two bundles to compare"
          onClick={() => setDiff(order(selected))}>Diff selected</button>
      </div>
      <ErrorBox error={error} testid="mlprod-bundles-error" />
      {bundles && bundles.length === 0 && <div className="jp-mlprod-empty">No bundle yet.</div>}
      {bundles && bundles.length > 0 && (
        <table className="jp-mlprod-table" data-testid="mlprod-bundles-table">
          <thead>
            <tr><th /><th>Bundle</th><th /></tr>
          </thead>
          <tbody>
            {bundles.map(b => {
              const v = verified[b.id];
              return (
                <tr key={b.id} data-testid={`mlprod-bundle-row-${b.short_id}`}>
                  <td>
                    <input type="checkbox" data-testid={`mlprod-bundle-select-${b.short_id}`}
                      checked={selected.includes(b.id)} onChange={e => toggle(b.id, e.target.checked)} />
                  </td>
                  <td>
                    <code title={b.id}>{b.short_id}</code>
                    <div>{b.message || '(no message)'}</div>
                    <div className="jp-mlprod-hint">
                      {formatTime(b.created_at)} · {b.author ?? '?'} · {b.file_count} files · {formatBytes(b.total_size)}
                    </div>
                  </td>
                  <td>
                    <button className="jp-Button jp-mod-styled jp-mlprod-secondary"
                      data-testid={`mlprod-bundle-verify-${b.short_id}`} disabled={v === 'busy'}
                      onClick={() => void verify(b.id)}>Verify</button>
                    {v && v !== 'busy' && (
                      <span className="jp-mlprod-badge" data-status={v.ok ? 'succeeded' : 'failed'}
                        data-testid={`mlprod-bundle-verified-${b.short_id}`}
                        title={v.bad.map(x => `${x.path}: ${x.problem}`).join('\n')}>
                        {v.ok ? `ok · ${v.files_checked} files` : `${v.bad.length} bad`}
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <Deployments bundles={bundles ?? []} selected={selected[selected.length - 1] ?? null} />
    </div>
  );
}

function CreateBundle(props: { onCreated: (b: IBundle) => void }): JSX.Element {
  const [message, setMessage] = React.useState('');
  const [preview, setPreview] = React.useState<IBundlePreview | null>(null);
  const [showFiles, setShowFiles] = React.useState(false);
  const [busy, setBusy] = React.useState(false);
  const [created, setCreated] = React.useState<IBundle | null>(null);
  const [error, setError] = React.useState<string | null>(null);

  const loadPreview = React.useCallback(async () => {
    try {
      setPreview(await bundleApi.preview());
    } catch (err) {
      setError(errorMessage(err));
    }
  }, []);
  React.useEffect(() => void loadPreview(), [loadPreview]);

  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      const b = await bundleApi.create(message);
      setCreated(b);
      setMessage('');
      props.onCreated(b);
      void loadPreview();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const kinds = new Map<string, { count: number; size: number }>();
  for (const f of preview?.files ?? []) {
    const k = kinds.get(f.kind) ?? { count: 0, size: 0 };
    kinds.set(f.kind, { count: k.count + 1, size: k.size + f.size });
  }

  return (
    <fieldset className="jp-mlprod-form" data-testid="mlprod-bundle-create">
      <legend>New bundle</legend>
      <input className="jp-mod-styled jp-mlprod-wide" placeholder="What is this version? (message)"
        value={message} data-testid="mlprod-bundle-message" onChange={e => setMessage(e.target.value)} />
      {preview && (
        <div className="jp-mlprod-hint" data-testid="mlprod-bundle-preview">
          <div>
            {preview.file_count} files · {formatBytes(preview.total_size)} · new bytes at most{' '}
            <span data-testid="mlprod-bundle-preview-new">{formatBytes(preview.new_bytes_at_most)}</span>
          </div>
          <div>
            {[...kinds.entries()].map(([k, v]) => `${v.count} ${k} (${formatBytes(v.size)})`).join(' · ')}
          </div>
          <div>
            {preview.steps.length} steps · {preview.scenario_count} scenarios · Python{' '}
            {preview.environment.python} · {preview.environment.package_count} packages
          </div>
          <button className="jp-mlprod-link" data-testid="mlprod-bundle-preview-toggle"
            onClick={() => setShowFiles(!showFiles)}>{showFiles ? 'hide files' : 'show files'}</button>
          {showFiles && <StatusLegend />}
          {showFiles && (
            <ul className="jp-mlprod-filelist" data-testid="mlprod-bundle-preview-files">
              {preview.files.map(f => (
                <li key={f.path} data-status={f.status === 'stored' ? 'up_to_date' : 'pending'}>
                  {f.path} <span title={STATUS_MEANING[f.status] ?? ''}>{f.kind} · {formatBytes(f.size)} · {f.status}</span>
                </li>
              ))}
            </ul>
          )}
          {preview.notes.map((n, i) => <div key={i}>note: {n}</div>)}
        </div>
      )}
      <div className="jp-mlprod-toolbar">
        <button className="jp-Button jp-mod-styled jp-mod-accept" data-testid="mlprod-bundle-create-button"
          disabled={busy} onClick={() => void create()}>{busy ? 'Creating…' : 'Create bundle'}</button>
        {created && (
          <span className="jp-mlprod-hint" data-testid="mlprod-bundle-created">
            created <code>{created.short_id}</code> · stored {formatBytes(created.new_bytes ?? 0)} new
          </span>
        )}
      </div>
      <ErrorBox error={error} testid="mlprod-bundle-create-error" />
    </fieldset>
  );
}

/** What each file status of the preview means (the words alone puzzle a newcomer). */
const STATUS_MEANING: { [status: string]: string } = {
  stored: 'already in an earlier bundle: costs no new space',
  new: 'its content is not stored yet: this bundle will store it',
  unknown: 'not hashed yet (no run or bundle has read it): checked when the bundle is created, stored if new'
};

function StatusLegend(): JSX.Element {
  return (
    <dl className="jp-mlprod-legend-list" data-testid="mlprod-bundle-status-legend">
      {Object.entries(STATUS_MEANING).map(([status, meaning]) => (
        <React.Fragment key={status}>
          <dt>{status}</dt>
          <dd>{meaning}</dd>
        </React.Fragment>
      ))}
    </dl>
  );
}
