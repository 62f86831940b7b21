import * as dagre from '@dagrejs/dagre';
import * as React from 'react';

import { statusLabel } from '../format';
import { IEdge, IStep } from '../types';
import { NodeCheckMark } from './CheckBadge';

const NODE_WIDTH = 112;
const NODE_HEIGHT = 38;
const MARGIN = 8;

export interface IDagViewProps {
  steps: IStep[];
  edges: IEdge[];
  /** Status to show per step name (live run first, else latest). */
  statuses: { [step: string]: string | undefined };
  /** Progress text per step name ("cell 3/7"), while running. */
  progress: { [step: string]: string | undefined };
  /** Steps named by a problem are outlined. */
  problemSteps: Set<string>;
  onOpen: (step: IStep) => void;
}

interface ILayout {
  width: number;
  height: number;
  nodes: { step: IStep; x: number; y: number }[];
  edges: { edge: IEdge; points: { x: number; y: number }[] }[];
}

function layout(steps: IStep[], edges: IEdge[]): ILayout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({
    rankdir: 'TB',
    nodesep: 14,
    ranksep: 30,
    marginx: MARGIN,
    marginy: MARGIN
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const step of steps) {
    g.setNode(step.name, { width: NODE_WIDTH, height: NODE_HEIGHT });
  }
  const drawn = edges.filter(e => g.hasNode(e.source) && g.hasNode(e.target));
  for (const edge of drawn) {
    g.setEdge(edge.source, edge.target);
  }
  dagre.layout(g);
  const graph = g.graph();
  return {
    width: Math.max(graph.width ?? 0, NODE_WIDTH + 2 * MARGIN),
    height: Math.max(graph.height ?? 0, NODE_HEIGHT + 2 * MARGIN),
    nodes: steps.map(step => {
      const n = g.node(step.name);
      return { step, x: n.x, y: n.y };
    }),
    edges: drawn.map(edge => ({
      edge,
      points: (g.edge(edge.source, edge.target)?.points ?? []) as {
        x: number;
        y: number;
      }[]
    }))
  };
}

function pathOf(points: { x: number; y: number }[]): string {
  return points
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`)
    .join(' ');
}

function truncate(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

/** The pipeline DAG as SVG, laid out by dagre (top to bottom). */
export function DagView(props: IDagViewProps): JSX.Element {
  const { steps, edges } = props;
  const geometry = React.useMemo(() => layout(steps, edges), [steps, edges]);

  if (steps.length === 0) {
    return (
      <div className="jp-mlprod-empty" data-testid="mlprod-dag-empty">
        No notebook is tagged as a pipeline step yet. Open a notebook and run
        “MLProd: Tag notebook as pipeline step”.
      </div>
    );
  }

  return (
    <svg
      className="jp-mlprod-dag"
      data-testid="mlprod-dag"
      viewBox={`0 0 ${geometry.width} ${geometry.height}`}
      width={geometry.width}
      style={{ maxWidth: '100%', height: 'auto' }}
      role="img"
      aria-label="Pipeline graph"
    >
      <defs>
        <marker
          id="jp-mlprod-arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M 0 0 L 10 5 L 0 10 z" className="jp-mlprod-arrowhead" />
        </marker>
      </defs>
      {geometry.edges.map(({ edge, points }) => (
        <path
          key={`${edge.source}->${edge.target}`}
          className="jp-mlprod-edge"
          data-testid={`mlprod-edge-${edge.source}-${edge.target}`}
          d={pathOf(points)}
          markerEnd="url(#jp-mlprod-arrow)"
        >
          <title>
            {`${edge.source} → ${edge.target}` +
              (edge.via.length ? `\nvia ${edge.via.join(', ')}` : '')}
          </title>
        </path>
      ))}
      {geometry.nodes.map(({ step, x, y }) => {
        const status = props.statuses[step.name] ?? 'none';
        const progress = props.progress[step.name];
        const open = () => props.onOpen(step);
        return (
          <g
            key={step.name}
            className={
              'jp-mlprod-node' +
              (props.problemSteps.has(step.name) ? ' jp-mod-problem' : '')
            }
            data-testid={`mlprod-step-node-${step.name}`}
            data-status={status}
            transform={`translate(${x - NODE_WIDTH / 2},${y - NODE_HEIGHT / 2})`}
            role="button"
            tabIndex={0}
            onClick={open}
            onKeyDown={e => {
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                open();
              }
            }}
          >
            <title>
              {`${step.name} (${step.path})\nstatus: ${statusLabel(
                status === 'none' ? null : status
              )}\nclick to open the notebook`}
            </title>
            <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx={6} ry={6} />
            <text x={8} y={16} className="jp-mlprod-node-name">
              {truncate(step.name, 14)}
            </text>
            <text x={8} y={31} className="jp-mlprod-node-status">
              {progress
                ? `running · ${progress}`
                : statusLabel(status === 'none' ? null : status)}
            </text>
            {step.latest_checks && (
              <NodeCheckMark
                step={step.name}
                outcome={step.latest_checks.outcome}
                runId={step.latest_checks.run_id}
                x={NODE_WIDTH - 9}
              />
            )}
          </g>
        );
      })}
    </svg>
  );
}
