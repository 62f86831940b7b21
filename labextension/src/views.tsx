import { LabIcon, listIcon, historyIcon, lineFormIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { bundleIcon, endpointIcon, mlprodIcon, scenarioIcon } from './icons';
import { monitoringIcon } from './icons';
import { IRun, IStep } from './types';
import { AuditView } from './components/AuditView';
import { BundlesView } from './components/BundlesView';
import { EndpointsView } from './components/EndpointsView';
import { MetricsView } from './components/MetricsView';
import { MonitoringView } from './components/MonitoringView';
import { PipelineView } from './components/PipelineView';
import { RunsView } from './components/RunsView';
import { ScenariosView } from './components/ScenariosView';

/** What the panel asks the application to do (commands live in index.ts). */
export interface IPanelActions {
  openStep: (step: IStep) => void;
  openOutput: (runId: number | string, step: string) => void;
  openLog: (runId: number | string, step: string) => void;
  /** Open the panel as a main-area tab (absent when this panel is that tab). */
  openInMain?: () => void;
}

/** What a view may read and change of the panel's shared state. */
export interface IViewContext {
  actions: IPanelActions;
  /** The run the panel follows (started here or found running). */
  activeRun: IRun | null;
  setActiveRun: React.Dispatch<React.SetStateAction<IRun | null>>;
  /** The run shown in the Runs view (null: the table). */
  selectedRun: number | string | null;
  setSelectedRun: (id: number | string | null) => void;
  /** Switch to the Runs view showing one run. */
  showRun: (id: number | string) => void;
  endpoint: string | null;
  setEndpoint: (name: string | null) => void;
}

/** One view of the panel: a button in the view bar (icon, tooltip) and what it shows. */
export interface IPanelView {
  id: string;
  label: string;
  /** The tooltip: what the view is for. */
  caption: string;
  icon: LabIcon;
  render: (ctx: IViewContext) => JSX.Element;
}

/** The panel's views, in bar order. Adding a view is one entry here. */
export const VIEWS: IPanelView[] = [
  {
    id: 'pipeline',
    label: 'Pipeline',
    caption: 'Pipeline: the steps, their status, Run pipeline',
    icon: mlprodIcon,
    render: c => (
      <PipelineView activeRun={c.activeRun} onRunStarted={c.setActiveRun}
        onOpenStep={c.actions.openStep} onShowRun={c.showRun} />
    )
  },
  {
    id: 'runs',
    label: 'Runs',
    caption: 'Runs: history, step results, outputs and logs',
    icon: listIcon,
    render: c => (
      <RunsView selected={c.selectedRun} onSelect={c.setSelectedRun}
        onOpenOutput={c.actions.openOutput} onOpenLog={c.actions.openLog}
        onRunUpdated={run => c.setActiveRun(cur => (cur && cur.id === run.id ? run : cur))} />
    )
  },
  {
    id: 'metrics',
    label: 'Metrics',
    caption: 'Metrics: trends per step and metric across runs, check outcomes',
    icon: lineFormIcon,
    render: c => <MetricsView onShowRun={c.showRun} />
  },
  {
    id: 'scenarios',
    label: 'Scenarios',
    caption: 'Scenarios: triggers, schedules and their timeline',
    icon: scenarioIcon,
    render: c => <ScenariosView onShowRun={c.showRun} />
  },
  {
    id: 'bundles',
    label: 'Bundles',
    caption: 'Bundles: freeze a version, compare, deploy, roll back',
    icon: bundleIcon,
    render: () => <BundlesView />
  },
  {
    id: 'endpoints',
    label: 'Endpoints',
    caption: 'Endpoints: served notebooks, live numbers, test console',
    icon: endpointIcon,
    render: c => <EndpointsView selected={c.endpoint} onSelect={c.setEndpoint} />
  },
  {
    id: 'audit',
    label: 'Audit',
    caption: 'Audit: who changed what, when; verify the chain',
    icon: historyIcon,
    render: () => <AuditView />
  },
  {
    id: 'monitoring',
    label: 'Monitoring',
    caption: 'Monitoring: drift per feature, PSI over time, predictions and live performance of an endpoint',
    icon: monitoringIcon,
    render: c => <MonitoringView selected={c.endpoint} onSelect={c.setEndpoint} />
  }
];
