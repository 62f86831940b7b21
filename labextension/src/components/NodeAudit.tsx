import * as React from 'react';

import { bundleApi } from '../api_bundles';
import { errorMessage } from '../handler';
import { ErrorBox, formatTime } from '../format';
import { IAuditEvent, INode } from '../types_bundles';

/** Register a production node: its name, URL and the server's env var holding its token. */
export function RegisterNode(props: { onRegistered: (n: INode) => void }): JSX.Element {
  const [open, setOpen] = React.useState(false);
  const [name, setName] = React.useState('');
  const [url, setUrl] = React.useState('');
  const [tokenEnv, setTokenEnv] = React.useState('');
  const [error, setError] = React.useState<string | null>(null);

  if (!open) {
    return (
      <button className="jp-mlprod-link" data-testid="mlprod-node-register-open"
        onClick={() => setOpen(true)}>+ register a node</button>
    );
  }
  const register = async () => {
    try {
      const node = await bundleApi.registerNode(name.trim(), url.trim(), tokenEnv.trim() || null);
      setOpen(false);
      setError(null);
      props.onRegistered(node);
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <div className="jp-mlprod-preview" data-testid="mlprod-node-register">
      <input className="jp-mod-styled jp-mlprod-wide" placeholder="name (prod-1)" value={name}
        data-testid="mlprod-node-name" onChange={e => setName(e.target.value)} />
      <input className="jp-mod-styled jp-mlprod-wide" placeholder="URL (http://prod-host:8765)" value={url}
        data-testid="mlprod-node-url" onChange={e => setUrl(e.target.value)} />
      <input className="jp-mod-styled jp-mlprod-wide" placeholder="token env var (default MLPROD_NODE_TOKEN)"
        value={tokenEnv} data-testid="mlprod-node-token-env" onChange={e => setTokenEnv(e.target.value)} />
      <div className="jp-mlprod-hint">The token itself is never sent: the Jupyter server reads it from that variable.</div>
      <ErrorBox error={error} testid="mlprod-node-register-error" />
      <div className="jp-mlprod-toolbar">
        <button className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
          onClick={() => setOpen(false)}>Cancel</button>
        <button className="jp-Button jp-mod-styled jp-mod-accept jp-mlprod-small"
          data-testid="mlprod-node-register-button" onClick={() => void register()}>Register</button>
      </div>
    </div>
  );
}

/** The latest audit events: who created, deployed or rolled back which bundle, where. */
export function AuditList(props: { refresh: number }): JSX.Element {
  const [events, setEvents] = React.useState<IAuditEvent[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    bundleApi.audit(20).then(r => {
      setEvents(r.events);
      setError(null);
    }).catch(err => setError(errorMessage(err)));
  }, [props.refresh]);

  return (
    <details className="jp-mlprod-audit" data-testid="mlprod-audit">
      <summary>Audit</summary>
      <ErrorBox error={error} testid="mlprod-audit-error" />
      {events && events.length === 0 && <div className="jp-mlprod-hint">no event yet</div>}
      {events?.map(e => (
        <div key={e.id} className="jp-mlprod-hint" data-testid={`mlprod-audit-${e.id}`}
          data-status={e.outcome === 'ok' ? 'succeeded' : 'failed'}>
          {formatTime(e.at)} · {e.actor} · <strong>{e.action}</strong>
          {e.bundle_id && <> · <code>{e.bundle_id.slice(0, 12)}</code></>}
          {e.node && <> · on {e.node}</>}
          {e.outcome !== 'ok' && <> · {e.outcome}</>}
        </div>
      ))}
    </details>
  );
}
