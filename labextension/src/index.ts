import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import {
  ICommandPalette,
  InputDialog,
  MainAreaWidget,
  Notification,
  showErrorMessage
} from '@jupyterlab/apputils';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ToolbarButton } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { IPanelActions, MlprodPanel } from './components/Panel';
import { servingNow, showEndpoint } from './components/EndpointsView';
import { linkedScenarioRun, showScenarioRun } from './scenarioRunLink';
import { endpointApi } from './api_endpoints';
import { editStep } from './components/StepDialog';
import { mlprodIcon } from './icons';
import { createOutputWidget, OutputKind, outputId } from './OutputViewer';
import { toProjectPath, toServerPath } from './paths';

namespace CommandIDs {
  export const tagStep = 'mlprod:tag-step';
  export const serve = 'mlprod:serve-notebook';
  export const openPanel = 'mlprod:open-panel';
  export const openMain = 'mlprod:open-main';
  export const openOutput = 'mlprod:open-output';
  export const openLog = 'mlprod:open-log';
}

const PALETTE_CATEGORY = 'MLProd';

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-mlprod:plugin',
  description:
    'MLProd panel: pipeline DAG, runs and step tagging for notebooks.',
  autoStart: true,
  optional: [
    ICommandPalette,
    ILayoutRestorer,
    INotebookTracker,
    IDefaultFileBrowser
  ],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    notebooks: INotebookTracker | null,
    browser: IDefaultFileBrowser | null
  ) => {
    const { commands, shell } = app;

    // --- main-area viewers for a step run's output notebook or log ---
    const openInMain = (kind: OutputKind, runId: string, step: string) => {
      const id = outputId(kind, runId, step);
      for (const widget of shell.widgets('main')) {
        if (widget.id === id) {
          shell.activateById(id);
          return;
        }
      }
      const widget: MainAreaWidget<Widget> = createOutputWidget(
        kind,
        runId,
        step
      );
      shell.add(widget, 'main');
      shell.activateById(widget.id);
    };

    commands.addCommand(CommandIDs.openOutput, {
      label: 'MLProd: Open the executed notebook of a step run',
      execute: args =>
        openInMain('notebook', String(args.runId), String(args.step))
    });
    commands.addCommand(CommandIDs.openLog, {
      label: 'MLProd: Open the log of a step run',
      execute: args => openInMain('log', String(args.runId), String(args.step))
    });

    // --- the side panel, and the same panel as a main-area tab for wide views ---
    const actions: IPanelActions = {
      openStep: step =>
        void toServerPath(step.path).then(path =>
          commands.execute('docmanager:open', { path })
        ),
      openOutput: (runId, step) =>
        void commands.execute(CommandIDs.openOutput, {
          runId: String(runId),
          step
        }),
      openLog: (runId, step) =>
        void commands.execute(CommandIDs.openLog, {
          runId: String(runId),
          step
        }),
      openInMain: () => void commands.execute(CommandIDs.openMain)
    };
    const panel = new MlprodPanel(actions);
    panel.title.icon = mlprodIcon;
    panel.title.caption = 'MLProd: pipeline and runs';
    panel.title.label = 'MLProd';
    shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, 'mlprod-panel');

    // A reporter's link to a scenario run waiting for approval opens it in the panel.
    const linked = linkedScenarioRun(window.location.search);
    if (linked !== null) {
      showScenarioRun(linked);
      void app.restored.then(() => shell.activateById(panel.id));
    }

    commands.addCommand(CommandIDs.openPanel, {
      label: 'MLProd: Show the pipeline panel',
      icon: mlprodIcon,
      execute: () => shell.activateById(panel.id)
    });

    let mainPanel: MainAreaWidget<MlprodPanel> | null = null;
    commands.addCommand(CommandIDs.openMain, {
      label: 'Open MLProd in the main area',
      caption: 'The MLProd panel as a tab: room for the DAG, diffs and timelines',
      icon: mlprodIcon,
      execute: () => {
        if (!mainPanel || mainPanel.isDisposed) {
          const content = new MlprodPanel(
            { ...actions, openInMain: undefined },
            'mlprod-main-panel'
          );
          mainPanel = new MainAreaWidget({ content });
          mainPanel.id = 'mlprod-main';
          mainPanel.title.label = 'MLProd';
          mainPanel.title.icon = mlprodIcon;
          mainPanel.title.closable = true;
          shell.add(mainPanel, 'main');
        }
        shell.activateById(mainPanel.id);
      }
    });

    // --- tag / edit the current notebook, or the one right-clicked ---
    const pathFor = (args: { [key: string]: unknown }): string | null => {
      if (typeof args.path === 'string' && args.path) {
        return args.path;
      }
      if (args.fromBrowser && browser) {
        const item = browser.selectedItems().next();
        if (!item.done && item.value && item.value.type === 'notebook') {
          return item.value.path;
        }
      }
      return notebooks?.currentWidget?.context.path ?? null;
    };

    commands.addCommand(CommandIDs.tagStep, {
      label: 'MLProd: Tag notebook as pipeline step',
      caption: 'Declare this notebook a pipeline step (name, inputs, outputs…)',
      icon: mlprodIcon,
      isEnabled: args => pathFor(args) !== null,
      execute: async args => {
        const path = pathFor(args);
        if (path) {
          await editStep(await toProjectPath(path));
        }
      }
    });

    commands.addCommand(CommandIDs.serve, {
      label: 'MLProd: Serve this notebook',
      caption: 'Serve this scoring notebook: an endpoint, a warm server and its URL',
      icon: mlprodIcon,
      isEnabled: args => pathFor(args) !== null,
      execute: async args => {
        const path = pathFor(args);
        if (!path) {
          return;
        }
        const base = (path.split('/').pop() ?? 'endpoint').replace(/\.ipynb$/, '');
        const answer = await InputDialog.getText({
          title: 'Serve this notebook',
          label: 'Endpoint name',
          text: base.toLowerCase().replace(/[^a-z0-9_-]/g, '-'),
          okLabel: 'Serve'
        });
        if (!answer.button.accept || !answer.value) {
          return;
        }
        const name = answer.value.trim();
        // Created, served and warm in one call: setup cells run first (seconds).
        const id = Notification.emit(`Serving ${name}: starting a server and warming it up…`,
          'in-progress', { autoClose: false });
        servingNow.add(name);
        showEndpoint(name);
        shell.activateById(panel.id);
        try {
          const endpoint = await endpointApi.serve(name, await toProjectPath(path));
          const url = endpoint.servers[0]?.url;
          Notification.update({
            id,
            message: url
              ? `${name} is served: ${url}${endpoint.paths.predict}`
              : `${name} is created; no server serves it yet`,
            type: url ? 'success' : 'warning',
            autoClose: 8000
          });
          showEndpoint(endpoint.name);
        } catch (err) {
          Notification.dismiss(id);
          await showErrorMessage('Serve this notebook', err as Error);
        } finally {
          servingNow.delete(name);
        }
      }
    });

    app.contextMenu.addItem({
      command: CommandIDs.tagStep,
      selector: '.jp-DirListing-item[data-file-type="notebook"]',
      args: { fromBrowser: true },
      rank: 60
    });

    if (palette) {
      palette.addItem({ command: CommandIDs.tagStep, category: PALETTE_CATEGORY });
      palette.addItem({ command: CommandIDs.openPanel, category: PALETTE_CATEGORY });
      palette.addItem({ command: CommandIDs.openMain, category: PALETTE_CATEGORY });
      palette.addItem({ command: CommandIDs.serve, category: PALETTE_CATEGORY });
    }

    // A toolbar button on every notebook.
    app.docRegistry.addWidgetExtension('Notebook', {
      createNew: (nb: NotebookPanel) => {
        const button = new ToolbarButton({
          icon: mlprodIcon,
          tooltip: 'MLProd: Tag notebook as pipeline step',
          onClick: () =>
            void commands.execute(CommandIDs.tagStep, {
              path: nb.context.path
            })
        });
        button.node.setAttribute('data-testid', 'mlprod-tag-toolbar-button');
        if (!nb.toolbar.insertAfter('cellType', 'mlprodTagStep', button)) {
          nb.toolbar.addItem('mlprodTagStep', button);
        }
        const serve = new ToolbarButton({
          label: 'Serve',
          tooltip: 'MLProd: Serve this notebook',
          onClick: () =>
            void commands.execute(CommandIDs.serve, { path: nb.context.path })
        });
        serve.node.setAttribute('data-testid', 'mlprod-serve-toolbar-button');
        if (!nb.toolbar.insertAfter('mlprodTagStep', 'mlprodServe', serve)) {
          nb.toolbar.addItem('mlprodServe', serve);
        }
        return button;
      }
    });
  }
};

export default plugin;
