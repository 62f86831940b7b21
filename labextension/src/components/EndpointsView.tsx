import { Signal } from '@lumino/signaling';
import * as React from 'react';

import { endpointApi } from '../api_endpoints';
import { errorMessage } from '../handler';
import { ErrorBox, usePoll } from '../format';
import { IEndpoint, IEndpointStats, IServerInfo } from '../types_endpoints';
import { EndpointConsole } from './EndpointConsole';
import { TrafficEditor } from './TrafficEditor';

/** Emitted (with an endpoint name) to show that endpoint in the Endpoints tab. */
export const endpointShown = new Signal<object, string>({});
let pending: string | null = null;

/** Show an endpoint in the panel (also when the panel has not rendered yet). */
export function showEndpoint(name: string): void {
  pending = name;
  endpointShown.emit(name);
}

/** Endpoints being served right now by "Serve this notebook" (the view says so). */
export const servingNow = new Set<string>();

/** The endpoint asked for before the panel rendered, once. */
export function takePendingEndpoint(): string | null {
  const name = pending;
  pending = null;
  return name;
}

function num(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? '–' : value.toFixed(digits);
}

function spanLabel(stats: IEndpointStats | null): string {
  const w = stats?.window_s;
  if (!w) {
    return 'since the server started';
  }
  return w >= 90 ? `last ${Math.round(w / 60)} min` : `last ${Math.round(w)} s`;
}

/** Versions with totals and latency over the last minutes; stacks into lines when narrow. */
function VersionsTable(props: { endpoint: IEndpoint; stats: IEndpointStats | null }): JSX.Element {
  const ep = props.endpoint;
  const span = spanLabel(props.stats);
  return (
    <table className="jp-mlprod-table jp-mod-stack" data-testid={`mlprod-endpoint-versions-${ep.name}`}>
      <caption className="jp-mlprod-hint">rates and latency: {span}</caption>
      <thead>
        <tr>
          <th>Version</th><th>Status</th><th>Weight</th>
          <th title="Since the server started">Requests</th><th title="Since the server started">Errors</th>
          <th title={`Requests per second, ${span}`}>req/s</th>
          <th title={`Latency, ${span}`}>p50</th><th title={`Latency, ${span}`}>p95</th>
        </tr>
      </thead>
      <tbody>
        {ep.versions.map(v => {
          const s = props.stats?.versions[v.version];
          const latency = s?.latency_ms;
          return (
            <tr key={v.version} data-testid={`mlprod-endpoint-version-${ep.name}-${v.version}`} data-status={v.status}>
              <td data-label="version" title={v.notebook}>
                <strong>{v.version}</strong>{v.shadow ? ' (shadow)' : ''}{v.live ? ' ●' : ''}
              </td>
              <td data-label="status" title={v.error ?? ''}>{v.status}</td>
              <td data-label="weight">{v.weight}%</td>
              <td data-label="requests" data-testid="mlprod-stat-requests">{s ? s.requests : '–'}</td>
              <td data-label="errors" data-testid="mlprod-stat-errors">{s ? s.errors : '–'}</td>
              <td data-label="req/s" title={span}>{num(s?.req_per_s, 2)}</td>
              <td data-label="p50" title={span} data-testid="mlprod-stat-p50">
                {latency ? `${num(latency.p50)} ms` : '–'}
              </td>
              <td data-label="p95" title={span} data-testid="mlprod-stat-p95">
                {latency ? `${num(latency.p95 ?? latency.p99)} ms` : '–'}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Where the endpoint answers: each server's URL for predictions. */
function EndpointUrls(props: { endpoint: IEndpoint }): JSX.Element {
  const ep = props.endpoint;
  if (!ep.servers.length) {
    return (
      <div className="jp-mlprod-hint" data-testid={`mlprod-endpoint-unserved-${ep.name}`}>
        {servingNow.has(ep.name) ? 'starting a server and warming it up…' : 'not served: Open → Start a server'}
      </div>
    );
  }
  return (
    <div className="jp-mlprod-urls">
      {ep.servers.map(s => (
        <a key={s.server_id} href={`${s.url}${ep.paths.predict}`} target="_blank" rel="noreferrer"
          data-testid={`mlprod-endpoint-url-${ep.name}`} title="POST a JSON request here">
          {`${s.url}${ep.paths.predict}`}
        </a>
      ))}
    </div>
  );
}

function Servers(props: { endpoint: IEndpoint; servers: IServerInfo[]; onChanged: () => void }): JSX.Element {
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);
  const mine = props.servers.filter(s => s.endpoints === null || s.endpoints.includes(props.endpoint.name));
  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await fn();
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
    setBusy(false);
    props.onChanged();
  };
  return (
    <div className="jp-mlprod-endpoint-servers" data-testid="mlprod-endpoint-servers">
      <ErrorBox error={error} testid="mlprod-server-error" />
      {mine.map(s => (
        <div key={s.server_id} className="jp-mlprod-row" data-testid={`mlprod-server-${s.server_id}`}>
          <a href={s.url} target="_blank" rel="noreferrer" data-testid="mlprod-server-url">{s.url}</a>
          <button className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small" disabled={busy}
            onClick={() => void act(() => endpointApi.stopServer(s.server_id))}>Stop</button>
        </div>
      ))}
      <button className="jp-Button jp-mod-styled jp-mod-accept jp-mlprod-small" disabled={busy}
        data-testid="mlprod-server-start"
        onClick={() => void act(() => endpointApi.startServer([props.endpoint.name]))}>
        {busy ? 'Working…' : 'Start a server'}
      </button>
    </div>
  );
}

/** Endpoints tab: every endpoint with live stats; the selected one's traffic, servers and console. */
export function EndpointsView(props: { selected: string | null; onSelect: (name: string | null) => void }): JSX.Element {
  const [endpoints, setEndpoints] = React.useState<IEndpoint[] | null>(null);
  const [stats, setStats] = React.useState<{ [name: string]: IEndpointStats }>({});
  const [servers, setServers] = React.useState<IServerInfo[]>([]);
  const [error, setError] = React.useState<string | null>(null);

  const load = React.useCallback(async () => {
    try {
      const list = await endpointApi.list();
      setEndpoints(list);
      const pairs = await Promise.all(
        list.map(e => endpointApi.stats(e.name).then(s => [e.name, s] as const).catch(() => null))
      );
      const next: { [name: string]: IEndpointStats } = {};
      pairs.forEach(p => { if (p) { next[p[0]] = p[1]; } });
      setStats(next);
      setServers(await endpointApi.servers().catch(() => []));
      setError(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, []);
  usePoll(load, 2000, true);

  const current = endpoints?.find(e => e.name === props.selected) ?? null;
  return (
    <div className="jp-mlprod-view" data-testid="mlprod-endpoints-view">
      <ErrorBox error={error} testid="mlprod-endpoints-error" />
      {endpoints && endpoints.length === 0 && !(props.selected && servingNow.has(props.selected)) && (
        <div className="jp-mlprod-empty">No endpoint yet. Open a scoring notebook and use “Serve this notebook”.</div>
      )}
      <div className="jp-mlprod-cards" data-testid="mlprod-endpoints-table">
        {(endpoints ?? []).map(e => (
          <div key={e.name} className={'jp-mlprod-card' + (e.name === props.selected ? ' jp-mod-selected' : '')}
            data-testid={`mlprod-endpoint-row-${e.name}`}>
            <div className="jp-mlprod-row">
              <strong>{e.name}</strong>
              <span className="jp-mlprod-muted">{e.description}</span>
              <button className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
                data-testid={`mlprod-endpoint-open-${e.name}`}
                onClick={() => props.onSelect(e.name === props.selected ? null : e.name)}>
                {e.name === props.selected ? 'Close' : 'Open'}
              </button>
            </div>
            <EndpointUrls endpoint={e} />
            <VersionsTable endpoint={e} stats={stats[e.name] ?? null} />
          </div>
        ))}
      </div>
      {props.selected && !current && endpoints && (
        <div className="jp-mlprod-empty" data-testid="mlprod-endpoint-pending">
          {servingNow.has(props.selected)
            ? `Serving “${props.selected}”: creating it, starting a server and warming it up…`
            : `Endpoint “${props.selected}” not found.`}
        </div>
      )}
      {current && (
        <div className="jp-mlprod-endpoint-detail" data-testid={`mlprod-endpoint-detail-${current.name}`}>
          <h3>Traffic</h3>
          <TrafficEditor endpoint={current} onSaved={() => void load()} />
          <h3>Servers</h3>
          <Servers endpoint={current} servers={servers} onChanged={() => void load()} />
          <h3>Test console</h3>
          <EndpointConsole key={current.name} endpoint={current} />
        </div>
      )}
    </div>
  );
}
