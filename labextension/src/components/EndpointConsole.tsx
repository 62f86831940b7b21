import * as React from 'react';

import { endpointApi } from '../api_endpoints';
import { errorMessage } from '../handler';
import { ErrorBox } from '../format';
import { IEndpoint, ITestResult } from '../types_endpoints';

function pretty(value: unknown): string {
  return value === null || value === undefined ? '' : JSON.stringify(value, null, 2);
}

/** Sends the sample (or an edited) request to the endpoint and shows the answer. */
export function EndpointConsole(props: { endpoint: IEndpoint }): JSX.Element {
  const [text, setText] = React.useState(() => pretty(props.endpoint.sample) || '{}');
  // The sample can arrive after the console first shows (the endpoint's view is still loading,
  // or a new version brings one): fill it in unless the person has typed something else.
  const sample = pretty(props.endpoint.sample);
  React.useEffect(() => {
    if (sample) {
      setText(current => (current.trim() === '{}' || current.trim() === '' ? sample : current));
    }
  }, [sample]);
  const [result, setResult] = React.useState<ITestResult | null>(null);
  const [invalid, setInvalid] = React.useState<string | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [busy, setBusy] = React.useState(false);

  const send = async () => {
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch (err) {
      setInvalid(`Invalid JSON, not sent: ${errorMessage(err)}`);
      return;
    }
    setInvalid(null);
    setBusy(true);
    try {
      setResult(await endpointApi.test(props.endpoint.name, request));
      setError(null);
    } catch (err) {
      setResult(null);
      setError(errorMessage(err));
    }
    setBusy(false);
  };

  return (
    <div className="jp-mlprod-console" data-testid="mlprod-endpoint-console">
      <textarea className="jp-mlprod-console-input" data-testid="mlprod-console-request" rows={8}
        spellCheck={false} value={text} onChange={e => { setText(e.target.value); setInvalid(null); }} />
      <div className="jp-mlprod-toolbar">
        <button className="jp-Button jp-mod-styled jp-mod-accept jp-mlprod-small" disabled={busy}
          data-testid="mlprod-console-send" onClick={() => void send()}>{busy ? 'Sending…' : 'Send'}</button>
        <button className="jp-Button jp-mod-styled jp-mlprod-secondary jp-mlprod-small"
          data-testid="mlprod-console-sample"
          onClick={() => { setText(pretty(props.endpoint.sample) || '{}'); setInvalid(null); }}>Reset to sample</button>
      </div>
      <ErrorBox error={invalid} testid="mlprod-console-invalid" />
      <ErrorBox error={error} testid="mlprod-console-error" />
      {result && (
        <div className="jp-mlprod-console-result" data-testid="mlprod-console-result">
          <div className="jp-mlprod-row">
            <span data-testid="mlprod-console-status" data-status={result.status}
              className={result.status < 400 ? 'jp-mlprod-ok' : 'jp-mlprod-bad'}>Status {result.status}</span>
            <span data-testid="mlprod-console-latency">
              {result.latency_ms === null ? '' : `${result.latency_ms.toFixed(1)} ms`}
            </span>
            <span data-testid="mlprod-console-version">{result.version ? `version ${result.version}` : ''}</span>
            <span className="jp-mlprod-muted">via {result.via}</span>
          </div>
          <pre className="jp-mlprod-console-output" data-testid="mlprod-console-response">
            {typeof result.body === 'string' ? result.body : pretty(result.body)}
          </pre>
        </div>
      )}
    </div>
  );
}
