import { Dialog, showDialog } from '@jupyterlab/apputils';
import * as React from 'react';

import { bundleApi } from '../api_bundles';
import { errorMessage } from '../handler';
import { ErrorBox, formatBytes, formatTime } from '../format';
import { IBundleSummary, IDeployment, IDeploymentHistory, INode } from '../types_bundles';
import { AuditList, RegisterNode } from './NodeAudit';

const OTHER = '__other__';

/** Deploy a bundle to a registered node (or a folder/URL), roll back, and the node's history. */
export function Deployments(props: { bundles: IBundleSummary[]; selected: string | null }): JSX.Element {
  const [nodes, setNodes] = React.useState<INode[]>([]);
  const [choice, setChoice] = React.useState<string>('');
  const [other, setOther] = React.useState('');
  const [bundle, setBundle] = React.useState<string>('');
  const [strict, setStrict] = React.useState(false);
  const [ownEnv, setOwnEnv] = React.useState(false);
  const [history, setHistory] = React.useState<IDeploymentHistory | null>(null);
  const [busy, setBusy] = React.useState(false);
  const [note, setNote] = React.useState<string | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const target = choice === OTHER ? other.trim() : choice;

  const [audit, setAudit] = React.useState(0);
  const loadNodes = React.useCallback((pick?: string) => {
    bundleApi.nodes().then(list => {
      setNodes(list);
      setChoice(c => pick ?? (c || (list[0]?.name ?? OTHER)));
    }).catch(err => setError(errorMessage(err)));
  }, []);
  React.useEffect(() => loadNodes(), [loadNodes]);
  React.useEffect(() => setAudit(n => n + 1), [props.bundles.length]);
  React.useEffect(() => {
    if (props.selected) {
      setBundle(props.selected);
    }
  }, [props.selected]);
  // A new bundle (created here or elsewhere) is what one deploys next: follow the newest.
  const newest = props.bundles[0]?.id ?? '';
  React.useEffect(() => setBundle(''), [newest]);

  // Only the newest request may set the table: two deploys in a row start two loads, and the
  // first one's answer (its bundle still active) can arrive last.
  const latestLoad = React.useRef(0);
  const loadHistory = React.useCallback(async () => {
    const mine = ++latestLoad.current;
    if (!target) {
      setHistory(null);
      return;
    }
    try {
      const loaded = await bundleApi.deployments(target);
      if (mine === latestLoad.current) {
        setHistory(loaded);
        setError(null);
      }
    } catch (err) {
      if (mine === latestLoad.current) {
        setHistory(null);
        setError(errorMessage(err));
      }
    }
  }, [target]);
  React.useEffect(() => {
    const h = window.setTimeout(() => void loadHistory(), choice === OTHER ? 500 : 0);
    return () => window.clearTimeout(h);
  }, [loadHistory]);

  const act = async (fn: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      setNote(await fn());
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
      setAudit(n => n + 1);
      void loadHistory();
    }
  };
  const bundleId = (props.bundles.some(b => b.id === bundle) && bundle) || newest;

  /** A person confirms a rollback knowing what leaves and what comes back. */
  const confirmRollback = async (to: string | null): Promise<boolean> => {
    const active = history?.active ?? null;
    const back = to ?? active?.previous_bundle_id ?? null;
    const answer = await showDialog({
      title: `Roll back ${target}?`,
      body: (
        <div data-testid="mlprod-rollback-confirm">
          <div>Active now: {describe(active?.bundle_id ?? null, active, props.bundles, history)}</div>
          <div>Goes back to: {describe(back, null, props.bundles, history)}</div>
        </div>
      ),
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Roll back' })]
    });
    return answer.button.accept;
  };
  const rollback = (to: string | null) => async () => {
    if (!(await confirmRollback(to))) {
      return 'rollback cancelled';
    }
    const d = await bundleApi.rollback(target, to, '');
    return `rolled back: ${d.short_id} active on ${d.node}`;
  };

  return (
    <fieldset className="jp-mlprod-form" data-testid="mlprod-deploy">
      <legend>Deploy</legend>
      <label className="jp-mlprod-param">
        <span className="jp-mlprod-param-name">bundle</span>
        <select className="jp-mod-styled" value={bundleId} data-testid="mlprod-deploy-bundle"
          onChange={e => setBundle(e.target.value)}>
          {props.bundles.map((b, i) => (
            <option key={b.id} value={b.id}>{b.short_id} {b.message}{i === 0 ? ' (newest)' : ''}</option>
          ))}
        </select>
      </label>
      <label className="jp-mlprod-param">
        <span className="jp-mlprod-param-name">to node</span>
        <select className="jp-mod-styled" value={choice} data-testid="mlprod-deploy-node"
          onChange={e => setChoice(e.target.value)}>
          {nodes.map(n => (
            <option key={n.name} value={n.name}>
              {n.name} ({n.url}){n.token_available ? '' : ` — ${n.token_env} not set`}
            </option>
          ))}
          <option value={OTHER}>another target (folder or URL)…</option>
        </select>
        {choice === OTHER && (
          <input className="jp-mod-styled" value={other} placeholder="/srv/prod-project or http://host:8765"
            data-testid="mlprod-deploy-target" onChange={e => setOther(e.target.value)} />
        )}
        <RegisterNode onRegistered={n => loadNodes(n.name)} />
      </label>
      <label className="jp-mlprod-check">
        <input type="checkbox" checked={strict} data-testid="mlprod-deploy-strict"
          onChange={e => setStrict(e.target.checked)} />
        strict: refuse if the node's environment differs from the bundle's lock
      </label>
      <label className="jp-mlprod-check">
        <input type="checkbox" checked={ownEnv} data-testid="mlprod-deploy-env"
          onChange={e => setOwnEnv(e.target.checked)} />
        own environment: the node builds one from the bundle's lock and runs the bundle there
      </label>
      <div className="jp-mlprod-toolbar">
        <button className="jp-Button jp-mod-styled jp-mod-accept" data-testid="mlprod-deploy-button"
          disabled={busy || !target || !bundleId}
          onClick={() => void act(async () => {
            const r = await bundleApi.deploy(bundleId, target, strict, '', ownEnv ? 'recreate' : 'compare');
            const own = r.deployment.environment?.kernel;
            const env = own ? `runs in its own environment (kernel ${own})` :
              r.environment.ok ? 'environment matches' : r.environment.problems.join('; ');
            return `${r.deployment.short_id} active on ${r.target.name}: uploaded ${r.uploaded_blobs} blobs ` +
              `(${formatBytes(r.uploaded_bytes)}), reused ${r.reused_blobs}; ${env}`;
          })}>Deploy</button>
        <button className="jp-Button jp-mod-styled jp-mod-warn" data-testid="mlprod-rollback-button"
          disabled={busy || !target || !history?.active?.previous_bundle_id}
          title={history?.active?.previous_bundle_id
            ? 'Activate the bundle that was active before the current one (asks first)'
            : 'Nothing earlier to roll back to on this node'}
          onClick={() => void act(rollback(null))}>Roll back</button>
      </div>
      {note && <div className="jp-mlprod-hint" data-testid="mlprod-deploy-result">{note}</div>}
      <ErrorBox error={error} testid="mlprod-deploy-error" />
      {history && (
        <table className="jp-mlprod-table jp-mod-stack" data-testid="mlprod-deployments-table">
          <thead><tr><th>#</th><th>Bundle</th><th>Action</th><th /></tr></thead>
          <tbody>
            {history.deployments.map(d => (
              <tr key={d.id} data-testid={`mlprod-deployment-${d.id}`} data-status={d.active ? 'succeeded' : 'none'}>
                <td data-label="#">{d.id}</td>
                <td><code title={d.bundle_id}>{d.short_id}</code><div className="jp-mlprod-hint">{d.bundle?.message ?? ''}</div></td>
                <td>{d.action}<div className="jp-mlprod-hint">{formatTime(d.created_at)} · {d.actor ?? '?'}</div></td>
                <td>
                  {d.active ? <span className="jp-mlprod-badge" data-status="succeeded">active</span> : (
                    <button className="jp-mlprod-link" data-testid={`mlprod-rollback-to-${d.id}`} disabled={busy}
                      onClick={() => void act(rollback(d.bundle_id))}>roll back to this</button>
                  )}
                </td>
              </tr>
            ))}
            {history.deployments.length === 0 && <tr><td colSpan={4} className="jp-mlprod-hint">nothing deployed yet</td></tr>}
          </tbody>
        </table>
      )}
      <AuditList refresh={audit} />
    </fieldset>
  );
}

/** "abc123def456 “retrained on May data”" for a bundle id, from what the panel knows. */
function describe(
  id: string | null,
  deployment: IDeployment | null,
  bundles: IBundleSummary[],
  history: IDeploymentHistory | null
): JSX.Element {
  if (!id) {
    return <em>nothing</em>;
  }
  const known = bundles.find(b => b.id === id);
  const deployed = deployment ?? history?.deployments.find(d => d.bundle_id === id) ?? null;
  const message = known?.message ?? deployed?.bundle?.message ?? '';
  return (
    <span>
      <code>{known?.short_id ?? deployed?.short_id ?? id.slice(0, 12)}</code>
      {message ? ` “${message}”` : ''}
    </span>
  );
}
