import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { api } from '../handler';
import { usePoll } from '../format';
import { IRun, IStep, isActive } from '../types';
import { PipelineView } from './PipelineView';
import { RunsView } from './RunsView';
import { ScenariosView } from './ScenariosView';
import { BundlesView } from './BundlesView';
import { EndpointsView, endpointShown, takePendingEndpoint } from './EndpointsView';
import { MetricsView } from './MetricsView';

/** What the panel asks the application to do (commands live in index.ts). */
export interface IPanelActions {
  openStep: (step: IStep) => void;
  openOutput: (runId: number | string, step: string) => void;
  openLog: (runId: number | string, step: string) => void;
}

type Tab = 'pipeline' | 'runs' | 'metrics' | 'scenarios' | 'bundles' | 'endpoints';

const TABS: [Tab, string][] = [
  ['pipeline', 'Pipeline'],
  ['runs', 'Runs'],
  ['metrics', 'Metrics'],
  ['scenarios', 'Scenarios'],
  ['bundles', 'Bundles'],
  ['endpoints', 'Endpoints']
];

function PanelBody(props: { actions: IPanelActions }): JSX.Element {
  const [endpoint, setEndpoint] = React.useState<string | null>(takePendingEndpoint);
  const [tab, setTab] = React.useState<Tab>(endpoint ? 'endpoints' : 'pipeline');

  React.useEffect(() => {
    const show = (_: object, name: string) => {
      takePendingEndpoint();
      setEndpoint(name);
      setTab('endpoints');
    };
    endpointShown.connect(show);
    return () => {
      endpointShown.disconnect(show);
    };
  }, []);
  const [activeRun, setActiveRun] = React.useState<IRun | null>(null);
  const [selected, setSelected] = React.useState<number | string | null>(
    null
  );

  // Follow a run that is already going when the panel opens.
  React.useEffect(() => {
    api
      .listRuns(5, 0)
      .then(list => {
        const going = list.runs.find(r => isActive(r.status));
        if (going) {
          setActiveRun(current => current ?? going);
        }
      })
      .catch(() => undefined);
  }, []);

  const followId = activeRun?.id;
  const follow = React.useCallback(async () => {
    if (followId === undefined) {
      return;
    }
    try {
      setActiveRun(await api.getRun(followId));
    } catch {
      // the pipeline view shows connection errors
    }
  }, [followId]);
  usePoll(follow, 1000, isActive(activeRun?.status));

  const showRun = (id: number | string | null) => {
    setSelected(id);
    setTab('runs');
  };

  return (
    <div className="jp-mlprod-panel-body">
      <div className="jp-mlprod-tabs" role="tablist">
        {TABS.map(([t, label]) => (
          <button
            key={t}
            role="tab"
            aria-selected={tab === t}
            className={'jp-mlprod-tab' + (tab === t ? ' jp-mod-active' : '')}
            data-testid={`mlprod-tab-${t}`}
            onClick={() => {
              setTab(t);
              if (t === 'runs' && tab === 'runs') {
                setSelected(null);
              }
            }}
          >
            {label}
          </button>
        ))}
      </div>
      <div className="jp-mlprod-tabcontent">
        {tab === 'pipeline' && (
          <PipelineView
            activeRun={activeRun}
            onRunStarted={run => setActiveRun(run)}
            onOpenStep={props.actions.openStep}
            onShowRun={showRun}
          />
        )}
        {tab === 'runs' && (
          <RunsView
            selected={selected}
            onSelect={setSelected}
            onOpenOutput={props.actions.openOutput}
            onOpenLog={props.actions.openLog}
            onRunUpdated={run =>
              setActiveRun(current =>
                current && current.id === run.id ? run : current
              )
            }
          />
        )}
        {tab === 'metrics' && <MetricsView onShowRun={showRun} />}
        {tab === 'scenarios' && <ScenariosView onShowRun={showRun} />}
        {tab === 'bundles' && <BundlesView />}
        {tab === 'endpoints' && (
          <EndpointsView selected={endpoint} onSelect={setEndpoint} />
        )}
      </div>
    </div>
  );
}

/** The left-sidebar panel (`mlprod-panel`). */
export class MlprodPanel extends ReactWidget {
  constructor(private readonly actions: IPanelActions) {
    super();
    this.id = 'mlprod-panel';
    this.addClass('jp-mlprod-panel');
  }

  protected render(): JSX.Element {
    return <PanelBody actions={this.actions} />;
  }
}
