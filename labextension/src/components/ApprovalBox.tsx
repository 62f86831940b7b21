import * as React from 'react';

import { scenarioApi } from '../api_scenarios';
import { changed, errorMessage } from '../handler';
import { ErrorBox, formatTime } from '../format';
import { IApproval, IScenarioRunView } from '../types_scenario_steps';

/**
 * An approve step: who may decide and until when; while it waits, Approve and Reject
 * (a rejection asks why). The server decides who may approve (403) and whether the run
 * still waits (409); its message is shown as it says it.
 */
export function ApprovalBox(props: {
  fireId: number;
  approval: IApproval;
  waiting: boolean;
  onDecided: (run: IScenarioRunView) => void;
}): JSX.Element {
  const a = props.approval;
  const [rejecting, setRejecting] = React.useState(false);
  const [reason, setReason] = React.useState('');
  const [busy, setBusy] = React.useState(false);
  const [error, setError] = React.useState<string | null>(null);

  const decide = async (decision: 'approve' | 'reject') => {
    setBusy(true);
    setError(null);
    try {
      const run = await scenarioApi.decide(props.fireId, decision, decision === 'reject' ? reason.trim() : undefined);
      setRejecting(false);
      changed.emit('scenarios');
      props.onDecided(run);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="jp-mlprod-approval" data-testid="mlprod-approval">
      <div className="jp-mlprod-hint">
        {a.approvers.length ? `approvers: ${a.approvers.join(', ')}` : 'anyone may approve'}
        {a.deadline && ` · until ${formatTime(a.deadline)}`}
      </div>
      {a.decision && (
        <div data-testid="mlprod-approval-decision">
          {a.decision}{a.decided_by ? ` by ${a.decided_by}` : ''}{a.message ? `: ${a.message}` : ''}
        </div>
      )}
      {props.waiting && !rejecting && (
        <div className="jp-mlprod-toolbar">
          <button className="jp-Button jp-mod-styled jp-mod-accept" data-testid="mlprod-approve"
            disabled={busy} onClick={() => void decide('approve')}>Approve</button>
          <button className="jp-Button jp-mod-styled jp-mod-warn" data-testid="mlprod-reject"
            disabled={busy} onClick={() => setRejecting(true)}>Reject…</button>
        </div>
      )}
      {props.waiting && rejecting && (
        <div className="jp-mlprod-form" data-testid="mlprod-reject-form">
          <label className="jp-mlprod-param">
            <span className="jp-mlprod-param-name">why (sent with the rejection and reported)</span>
            <textarea className="jp-mod-styled" value={reason} data-testid="mlprod-reject-reason"
              placeholder="AUC gain too small for a release this week" onChange={e => setReason(e.target.value)} />
          </label>
          <div className="jp-mlprod-toolbar">
            <button className="jp-Button jp-mod-styled jp-mlprod-secondary" data-testid="mlprod-reject-cancel"
              disabled={busy} onClick={() => setRejecting(false)}>Back</button>
            <button className="jp-Button jp-mod-styled jp-mod-warn" data-testid="mlprod-reject-confirm"
              disabled={busy} onClick={() => void decide('reject')}>Reject the run</button>
          </div>
        </div>
      )}
      <ErrorBox error={error} testid="mlprod-approval-error" />
    </div>
  );
}
