import { launchIcon, ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { api } from '../handler';
import { usePoll } from '../format';
import { IRun, isActive } from '../types';
import { IPanelActions, IViewContext, VIEWS } from '../views';
import { endpointShown, takePendingEndpoint } from './EndpointsView';
import { pendingScenarioRun, scenarioRunShown } from '../scenarioRunLink';

export type { IPanelActions } from '../views';

/** The bar of views: icons with tooltips; their names show when the panel is wide. */
function ViewBar(props: {
  current: string;
  onSelect: (id: string) => void;
  openInMain?: () => void;
}): JSX.Element {
  const current = VIEWS.find(v => v.id === props.current);
  return (
    <div className="jp-mlprod-tabs" role="tablist" aria-label="MLProd views">
      {VIEWS.map(v => (
        <button
          key={v.id}
          role="tab"
          aria-selected={props.current === v.id}
          aria-label={v.label}
          title={v.caption}
          className={'jp-mlprod-tab' + (props.current === v.id ? ' jp-mod-active' : '')}
          data-testid={`mlprod-tab-${v.id}`}
          onClick={() => props.onSelect(v.id)}
        >
          <v.icon.react tag="span" className="jp-mlprod-tab-icon" />
          <span className="jp-mlprod-tab-label">{v.label}</span>
        </button>
      ))}
      <span className="jp-mlprod-viewname" data-testid="mlprod-viewname">
        {current?.label}
      </span>
      {props.openInMain && (
        <button
          className="jp-mlprod-tab jp-mlprod-tab-main"
          title="Open MLProd in the main area (room for the DAG, diffs, timelines)"
          aria-label="Open MLProd in the main area"
          data-testid="mlprod-open-in-main"
          onClick={props.openInMain}
        >
          <launchIcon.react tag="span" className="jp-mlprod-tab-icon" />
        </button>
      )}
    </div>
  );
}

function PanelBody(props: { actions: IPanelActions }): JSX.Element {
  const [endpoint, setEndpoint] = React.useState<string | null>(takePendingEndpoint);
  const [view, setView] = React.useState<string>(
    endpoint ? 'endpoints' : pendingScenarioRun() !== null ? 'scenarios' : VIEWS[0].id
  );
  React.useEffect(() => {
    // The Scenarios tab shows the linked scenario run (it takes it when it renders).
    const show = () => setView('scenarios');
    scenarioRunShown.connect(show);
    return () => {
      scenarioRunShown.disconnect(show);
    };
  }, []);

  React.useEffect(() => {
    const show = (_: object, name: string) => {
      takePendingEndpoint();
      setEndpoint(name);
      setView('endpoints');
    };
    endpointShown.connect(show);
    return () => {
      endpointShown.disconnect(show);
    };
  }, []);
  const [activeRun, setActiveRun] = React.useState<IRun | null>(null);
  const [selectedRun, setSelectedRun] = React.useState<number | string | null>(null);

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

  const context: IViewContext = {
    actions: props.actions,
    activeRun,
    setActiveRun,
    selectedRun,
    setSelectedRun,
    showRun: id => {
      setSelectedRun(id);
      setView('runs');
    },
    endpoint,
    setEndpoint
  };
  const current = VIEWS.find(v => v.id === view) ?? VIEWS[0];

  return (
    <div className="jp-mlprod-panel-body">
      <ViewBar
        current={current.id}
        openInMain={props.actions.openInMain}
        onSelect={id => {
          if (id === 'runs' && view === 'runs') {
            setSelectedRun(null); // a second click goes back to the table
          }
          setView(id);
        }}
      />
      <div className="jp-mlprod-tabcontent" data-testid={`mlprod-view-${current.id}`}>
        {current.render(context)}
      </div>
    </div>
  );
}

/** The MLProd panel: `mlprod-panel` in the left sidebar, or a main-area tab. */
export class MlprodPanel extends ReactWidget {
  constructor(private readonly actions: IPanelActions, id = 'mlprod-panel') {
    super();
    this.id = id;
    this.addClass('jp-mlprod-panel');
  }

  protected render(): JSX.Element {
    return <PanelBody actions={this.actions} />;
  }
}
