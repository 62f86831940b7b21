import { MainAreaWidget } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

import { api, errorMessage } from './handler';
import { mlprodIcon } from './icons';

/**
 * A sandboxed iframe showing a document the server rendered
 * (an executed notebook as HTML), or a plain-text log.
 */
class FrameContent extends Widget {
  constructor() {
    super();
    this.addClass('jp-mlprod-output');
  }

  showHtml(html: string): void {
    const frame = document.createElement('iframe');
    // No scripts, no same-origin access: the output is shown, never run.
    frame.setAttribute('sandbox', '');
    frame.setAttribute('referrerpolicy', 'no-referrer');
    frame.setAttribute('data-testid', 'mlprod-output-frame');
    frame.srcdoc = html;
    this.node.replaceChildren(frame);
  }

  showText(text: string): void {
    const pre = document.createElement('pre');
    pre.className = 'jp-mlprod-log';
    pre.setAttribute('data-testid', 'mlprod-log-text');
    pre.textContent = text;
    this.node.replaceChildren(pre);
  }

  showError(message: string): void {
    const div = document.createElement('div');
    div.className = 'jp-mlprod-error';
    div.setAttribute('role', 'alert');
    div.setAttribute('data-testid', 'mlprod-error');
    div.textContent = message;
    this.node.replaceChildren(div);
  }

  showLoading(): void {
    const div = document.createElement('div');
    div.className = 'jp-mlprod-hint';
    div.textContent = 'Loading…';
    this.node.replaceChildren(div);
  }
}

export type OutputKind = 'notebook' | 'log';

/** Widget id, so a second click shows the open tab instead of a copy. */
export function outputId(
  kind: OutputKind,
  runId: number | string,
  step: string
): string {
  return `mlprod-${kind}-${runId}-${step}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * A main-area widget titled "<step> — run <id>" showing the executed
 * notebook (`kind = 'notebook'`) or the step's log.
 */
export function createOutputWidget(
  kind: OutputKind,
  runId: number | string,
  step: string
): MainAreaWidget<FrameContent> {
  const content = new FrameContent();
  const widget = new MainAreaWidget({ content });
  widget.id = outputId(kind, runId, step);
  widget.title.label =
    kind === 'notebook' ? `${step} — run ${runId}` : `${step} log — run ${runId}`;
  widget.title.caption = widget.title.label;
  widget.title.icon = mlprodIcon;
  widget.title.closable = true;
  widget.addClass('jp-mlprod-output-widget');
  widget.node.setAttribute('data-testid', 'mlprod-output-widget');

  content.showLoading();
  const load =
    kind === 'notebook'
      ? api.outputHtml(runId, step).then(html => content.showHtml(html))
      : api.stepLog(runId, step).then(text => content.showText(text));
  load.catch(err => content.showError(errorMessage(err)));
  return widget;
}
