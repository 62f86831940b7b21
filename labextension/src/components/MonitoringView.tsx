import * as React from 'react';

import { driftApi } from '../api_drift';
import { endpointApi } from '../api_endpoints';
import { errorMessage } from '../handler';
import { ErrorBox, statusLabel } from '../format';
import { IDriftHistory, IDriftReport, IFeatureDrift, IPerformance } from '../types_drift';
import { IEndpoint } from '../types_endpoints';
import {
  calibrationSpec,
  distributionSpec,
  historySpec,
  measured,
  psiSpec,
  statisticSpec
} from './drift_charts';
import { VegaChart } from './VegaChart';

/** The windows the server computes drift over: a number of requests or hours. */
const WINDOWS = [
  { value: '1000', label: 'last 1000 requests' },
  { value: '1h', label: 'last hour' },
  { value: '24h', label: 'last 24 h' }
];

function num(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined ? '–' : Number(v.toPrecision(digits)).toString();
}

function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : `${Math.round(v * 100)}%`;
}

function Picker(props: {
  label: string;
  testid: string;
  value: string;
  options: { value: string; label: string }[];
  onChange: (value: string) => void;
}): JSX.Element {
  return (
    <label className="jp-mlprod-picker">
      {props.label}{' '}
      <select className="jp-mod-styled" data-testid={props.testid} value={props.value}
        onChange={e => props.onChange(e.target.value)}>
        {props.options.map(o => (
          <option key={o.value} value={o.value}>{o.label}</option>
        ))}
      </select>
    </label>
  );
}

/** The dataset verdict, the live and reference sizes, and the drifting features by name. */
function Verdict(props: { report: IDriftReport }): JSX.Element {
  const r = props.report;
  const drifting = r.features.filter(f => f.drift);
  return (
    <div className="jp-mlprod-drift-verdict" data-testid="mlprod-drift-verdict"
      data-drift={String(r.dataset.drift)}>
      <strong>{r.dataset.drift ? 'Dataset drift' : 'No dataset drift'}</strong>
      {`: ${pct(r.dataset.share)} of features drift (verdict at ${pct(r.dataset.threshold)}); `}
      <span className="jp-mlprod-muted">{`${r.n_live} live rows vs ${r.n_reference} reference`}</span>
      {drifting.length > 0 && (
        <div className="jp-mlprod-drift-chips" data-testid="mlprod-drift-drifting">
          {drifting.map(f => (
            <span key={f.name} className="jp-mlprod-drift-chip" data-testid={`mlprod-drift-flag-${f.name}`}>
              {f.name}
            </span>
          ))}
        </div>
      )}
    </div>
  );
}

/** One line per feature: test, statistic, p-value, PSI, status; a click selects it. */
function FeatureTable(props: {
  features: IFeatureDrift[];
  selected: string | null;
  onSelect: (name: string) => void;
}): JSX.Element {
  return (
    <table className="jp-mlprod-table jp-mod-stack jp-mlprod-drift-table" data-testid="mlprod-drift-table">
      <thead>
        <tr><th>Feature</th><th>Test</th><th>Statistic</th><th>p-value</th><th>PSI</th><th>Status</th></tr>
      </thead>
      <tbody>
        {props.features.map(f => (
          <tr key={f.name} data-testid={`mlprod-drift-row-${f.name}`} data-drift={String(f.drift)}
            data-status={f.status}
            className={(f.drift ? 'jp-mod-drift' : '') + (f.name === props.selected ? ' jp-mod-selected' : '')}
            tabIndex={0} onClick={() => props.onSelect(f.name)}
            onKeyDown={e => { if (e.key === 'Enter') { props.onSelect(f.name); } }}>
            <td data-label="feature" title={f.type}><strong>{f.name}</strong></td>
            <td data-label="test">{f.test ?? '–'}</td>
            <td data-label="statistic">{num(f.statistic)}</td>
            <td data-label="p">{num(f.p_value)}</td>
            <td data-label="PSI">{num(f.psi)}</td>
            <td data-label="status">{statusLabel(f.status)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Features the server could not judge, as visible lines (not as missing bars). */
function FeatureNotes(props: { features: IFeatureDrift[] }): JSX.Element | null {
  const unmeasured = props.features.filter(f => !measured(f));
  if (unmeasured.length === 0) {
    return null;
  }
  return (
    <div className="jp-mlprod-drift-notes">
      {unmeasured.map(f => (
        <div key={f.name} className="jp-mlprod-drift-message" data-testid={`mlprod-drift-note-${f.name}`}>
          <strong>{f.name}</strong>: {statusLabel(f.status)}
        </div>
      ))}
    </div>
  );
}

function Performance(props: { perf: IPerformance | null }): JSX.Element {
  const p = props.perf;
  if (!p || !p.labels) {
    return (
      <div className="jp-mlprod-empty" data-testid="mlprod-drift-no-labels">
        No ground truth in this window yet: send labels with POST /&lt;endpoint&gt;/feedback and the
        prediction id each response carries.
      </div>
    );
  }
  return (
    <div data-testid="mlprod-drift-performance">
      <div className="jp-mlprod-drift-numbers">
        <span>labels <strong>{p.labels}</strong></span>
        <span>accuracy <strong data-testid="mlprod-drift-accuracy">{num(p.accuracy)}</strong></span>
        <span>AUC <strong data-testid="mlprod-drift-auc">{num(p.auc)}</strong></span>
      </div>
      {p.calibration.length > 0 && <VegaChart testid="mlprod-drift-calibration" spec={() => calibrationSpec(p)} />}
    </div>
  );
}

/** PSI of the selected feature across the drift computations of this version. */
function History(props: { endpoint: string; version: string; feature: string; refreshed: number }): JSX.Element {
  const [history, setHistory] = React.useState<IDriftHistory | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  React.useEffect(() => {
    let stale = false;
    driftApi.history(props.endpoint, props.version, props.feature)
      .then(h => { if (!stale) { setHistory(h); setError(null); } })
      .catch(err => { if (!stale) { setError(errorMessage(err)); } });
    return () => { stale = true; };
  }, [props.endpoint, props.version, props.feature, props.refreshed]);
  const points = (history?.points ?? []).filter(p => p.feature === props.feature && p.psi !== null);
  return (
    <>
      <ErrorBox error={error} testid="mlprod-drift-history-error" />
      {history && points.length === 0 && (
        <div className="jp-mlprod-hint" data-testid="mlprod-drift-history-empty">No PSI recorded yet for {props.feature}.</div>
      )}
      {points.length > 0 && <VegaChart testid="mlprod-drift-history" spec={() => historySpec(points)} />}
    </>
  );
}

/** The prediction's distribution, reference vs live, and whether it drifts. */
function Predictions(props: { prediction: IFeatureDrift | null }): JSX.Element {
  const p = props.prediction;
  if (!p || !measured(p)) {
    return (
      <div className="jp-mlprod-hint" data-testid="mlprod-drift-prediction-none">
        {p ? statusLabel(p.status) : 'no predictions logged in this window'}
      </div>
    );
  }
  return (
    <>
      <div className="jp-mlprod-hint" data-testid="mlprod-drift-prediction-summary" data-drift={String(p.drift)}>
        {`${p.test ?? 'test'} ${num(p.statistic)}, PSI ${num(p.psi)}: `}
        {p.drift ? 'the predictions drift' : 'no prediction drift'}
      </div>
      <VegaChart testid="mlprod-drift-prediction" spec={() => distributionSpec(p.reference, p.live)} />
    </>
  );
}

/** Features grouped by their drift test, in report order. */
function byTest(features: IFeatureDrift[]): [string, IFeatureDrift[]][] {
  const groups = new Map<string, IFeatureDrift[]>();
  features.forEach(f => {
    const test = f.test ?? 'none';
    groups.set(test, [...(groups.get(test) ?? []), f]);
  });
  return [...groups.entries()];
}

/** The charts of one drift report; `feature` selects the history and distribution shown. */
function Report(props: {
  report: IDriftReport;
  feature: string | null;
  onFeature: (name: string) => void;
  refreshed: number;
}): JSX.Element {
  const r = props.report;
  const chartable = r.features.filter(measured);
  const selected = r.features.find(f => f.name === props.feature) ?? null;
  const pick = (datum: Record<string, unknown>) => {
    if (typeof datum.feature === 'string') {
      props.onFeature(datum.feature);
    }
  };
  return (
    <div data-testid="mlprod-drift-report">
      {/* With a window-wide message (not enough data) there is no verdict, and every
          feature would repeat it: only the other notes show. */}
      {!r.message && <Verdict report={r} />}
      <FeatureNotes features={r.message ? r.features.filter(f => f.status !== 'not_enough_data') : r.features} />
      {chartable.length > 0 && (
        <>
          <h3>Drift per feature: PSI</h3>
          <div className="jp-mlprod-hint">lines at 0.1 (moderate) and 0.25 (major)</div>
          <VegaChart testid="mlprod-drift-psi" spec={() => psiSpec(r.features)} onClick={pick} />
          <h3>Drift test statistic</h3>
          <div className="jp-mlprod-hint">per test; red: drift by the feature’s test; tick: the distance’s threshold</div>
          <div data-testid="mlprod-drift-statistic">
            {byTest(chartable).map(([test, group]) => (
              <VegaChart key={test} testid={`mlprod-drift-statistic-${test}`} spec={() => statisticSpec(group)} onClick={pick} />
            ))}
          </div>
        </>
      )}
      <FeatureTable features={r.features} selected={props.feature} onSelect={props.onFeature} />
      {selected && (
        <>
          <h3 data-testid="mlprod-drift-feature-title">{selected.name}: PSI over time</h3>
          <History endpoint={r.endpoint} version={r.version} feature={selected.name} refreshed={props.refreshed} />
          {measured(selected) && (
            <>
              <h3>{selected.name}: reference vs live</h3>
              <VegaChart testid="mlprod-drift-distribution" spec={() => distributionSpec(selected.reference, selected.live)} />
            </>
          )}
        </>
      )}
      <h3>Predictions: reference vs live</h3>
      <Predictions prediction={r.prediction ?? null} />
      <h3>Live performance</h3>
      <Performance perf={r.performance ?? null} />
    </div>
  );
}

/** Monitoring tab: an endpoint version's input and prediction drift, and live performance. */
export function MonitoringView(props: {
  selected: string | null;
  onSelect: (name: string | null) => void;
}): JSX.Element {
  const [endpoints, setEndpoints] = React.useState<IEndpoint[] | null>(null);
  const [version, setVersion] = React.useState<string | null>(null);
  const [win, setWin] = React.useState(WINDOWS[0].value);
  const [report, setReport] = React.useState<IDriftReport | null>(null);
  /** The feature the user clicked; until then, the first drifting one (else the first). */
  const [chosen, setChosen] = React.useState<string | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [loading, setLoading] = React.useState(false);
  const [refreshed, setRefreshed] = React.useState(0);

  React.useEffect(() => {
    endpointApi.list().then(setEndpoints).catch(err => setError(errorMessage(err)));
  }, [refreshed]);

  const endpoint = endpoints?.find(e => e.name === props.selected) ?? endpoints?.[0] ?? null;
  const name = endpoint?.name ?? null;
  // The version picked, while the endpoint has it; else none: the server reports its primary.
  const ver = endpoint?.versions.some(v => v.version === version) ? version : null;

  React.useEffect(() => {
    if (!name) {
      setReport(null);
      return;
    }
    let stale = false;
    setLoading(true);
    driftApi.report(name, ver, win)
      .then(r => {
        if (stale) {
          return;
        }
        setReport(r);
        setError(null);
      })
      .catch(err => { if (!stale) { setReport(null); setError(errorMessage(err)); } })
      .finally(() => { if (!stale) { setLoading(false); } });
    return () => { stale = true; };
  }, [name, ver, win, refreshed]);

  const features = report?.features ?? [];
  const feature = features.some(f => f.name === chosen) ? chosen
    : (features.find(f => f.drift) ?? features[0])?.name ?? null;
  return (
    <div className="jp-mlprod-view jp-mlprod-monitoring" data-testid="mlprod-monitoring-view">
      <div className="jp-mlprod-toolbar">
        <Picker label="Endpoint" testid="mlprod-drift-endpoint" value={name ?? ''}
          options={(endpoints ?? []).map(e => ({ value: e.name, label: e.name }))}
          onChange={props.onSelect} />
        <Picker label="Version" testid="mlprod-drift-version"
          value={ver ?? (report?.endpoint === name ? report.version : '')}
          options={(endpoint?.versions ?? []).map(v => ({ value: v.version, label: v.version + (v.live ? ' ●' : '') }))}
          onChange={setVersion} />
        <Picker label="Window" testid="mlprod-drift-window" value={win} options={WINDOWS} onChange={setWin} />
        <button className="jp-Button jp-mod-styled jp-mlprod-secondary" data-testid="mlprod-drift-refresh"
          disabled={loading} onClick={() => setRefreshed(n => n + 1)}>
          {loading ? 'Computing…' : 'Refresh'}
        </button>
      </div>
      <ErrorBox error={error} testid="mlprod-drift-error" />
      {endpoints && endpoints.length === 0 && (
        <div className="jp-mlprod-empty">No endpoint yet. Serve a scoring notebook, turn its prediction log on, and its drift shows here.</div>
      )}
      {endpoint && endpoint.options.prediction_log.enabled === false && (
        <div className="jp-mlprod-drift-message" data-testid="mlprod-drift-log-off">
          {`The prediction log of ${endpoint.name} is off: nothing to compare with its reference. `}
          Turn it on with the endpoint option prediction_log.enabled.
        </div>
      )}
      {report?.message && (
        <div className="jp-mlprod-drift-message" role="status" data-testid="mlprod-drift-message">{report.message}</div>
      )}
      {report && (
        <Report report={report} feature={feature} onFeature={setChosen} refreshed={refreshed} />
      )}
    </div>
  );
}
