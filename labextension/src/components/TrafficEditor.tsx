import * as React from 'react';

import { endpointApi } from '../api_endpoints';
import { ApiError, errorMessage } from '../handler';
import { IEndpoint } from '../types_endpoints';

/** Weights per version and the shadow version; the server validates. */
export function TrafficEditor(props: { endpoint: IEndpoint; onSaved: () => void }): JSX.Element {
  const ep = props.endpoint;
  const initial = () => {
    const w: { [v: string]: string } = {};
    ep.versions.forEach(v => { w[v.version] = String(ep.traffic?.weights[v.version] ?? v.weight ?? 0); });
    return w;
  };
  const [weights, setWeights] = React.useState<{ [v: string]: string }>(initial);
  const [shadow, setShadow] = React.useState<string>(ep.traffic?.shadow ?? '');
  const [error, setError] = React.useState<{ message: string; field: string | null } | null>(null);
  const [saved, setSaved] = React.useState(false);
  const versionKey = ep.versions.map(v => v.version).join(',');
  React.useEffect(() => {
    setWeights(initial());
    setShadow(ep.traffic?.shadow ?? '');
  }, [ep.name, versionKey, ep.revision]);

  const save = async () => {
    const body: { [v: string]: number } = {};
    Object.entries(weights).forEach(([v, w]) => { body[v] = w.trim() === '' ? NaN : Number(w); });
    try {
      await endpointApi.setTraffic(ep.name, {
        weights: body,
        shadow: shadow || null,
        sticky_header: ep.traffic?.sticky_header ?? null
      });
      setError(null);
      setSaved(true);
      props.onSaved();
    } catch (err) {
      setSaved(false);
      setError({ message: errorMessage(err), field: err instanceof ApiError ? err.field : null });
    }
  };

  return (
    <div className="jp-mlprod-traffic" data-testid="mlprod-traffic-editor">
      {ep.versions.map(v => (
        <label key={v.version} className="jp-mlprod-row">
          <span>{v.version}</span>
          <input className="jp-mlprod-input" type="number" min={0} step="any"
            data-testid={`mlprod-traffic-weight-${v.version}`} value={weights[v.version] ?? ''}
            onChange={e => { setSaved(false); setWeights({ ...weights, [v.version]: e.target.value }); }} />
        </label>
      ))}
      <label className="jp-mlprod-row">
        <span>Shadow</span>
        <select className="jp-mlprod-input" data-testid="mlprod-traffic-shadow" value={shadow}
          onChange={e => { setSaved(false); setShadow(e.target.value); }}>
          <option value="">(none)</option>
          {ep.versions.map(v => <option key={v.version} value={v.version}>{v.version}</option>)}
        </select>
      </label>
      {error && (
        <div className="jp-mlprod-error" role="alert" data-testid="mlprod-traffic-error">
          {error.field ? `${error.field}: ` : ''}{error.message}
        </div>
      )}
      <button className="jp-Button jp-mod-styled jp-mod-accept jp-mlprod-small" data-testid="mlprod-traffic-save"
        onClick={() => void save()}>Save traffic</button>
      {saved && <span className="jp-mlprod-muted" data-testid="mlprod-traffic-saved"> Saved.</span>}
    </div>
  );
}
