/**
 * Types of the bundle, node and deployment routes, mirroring
 * `jupyter_mlprod/server/openapi.yaml`. No rule lives here.
 */

export type FileKind = 'notebook' | 'config' | 'data' | 'model' | 'file';

export interface IBundleSummary {
  id: string;
  short_id: string;
  project: string;
  created_at: string;
  author: string | null;
  message: string;
  origin: 'created' | 'imported' | 'received';
  file_count: number;
  total_size: number;
  registered_at: string;
}

export interface IBundleList {
  bundles: IBundleSummary[];
  total: number;
}

export interface IBundleFile {
  path: string;
  sha256: string;
  size: number;
  kind: FileKind;
}

export interface IBundle extends IBundleSummary {
  files: IBundleFile[];
  by_kind: { [kind: string]: { count: number; size: number } };
  python: string | null;
  new_bytes?: number;
  new_blobs?: number;
}

export interface IBundlePreview {
  project: string;
  files: { path: string; kind: FileKind; size: number; status: string }[];
  file_count: number;
  total_size: number;
  new_bytes_at_most: number;
  steps: string[];
  scenario_count: number;
  endpoint_count: number;
  notes: string[];
  environment: { python: string; platform: string; package_count: number };
}

export interface INamedChanges {
  added: string[];
  removed: string[];
  changed: string[];
}

export interface ICellChange {
  change: 'added' | 'removed' | 'changed';
  index_before: number | null;
  index_after: number | null;
  cell_type: string | null;
  source: string;
  source_before?: string;
  diff?: string[];
}

export interface IBundleDiff {
  a: IBundleSummary;
  b: IBundleSummary;
  summary: string;
  files: {
    added: IBundleFile[];
    removed: IBundleFile[];
    changed: {
      path: string;
      kind: FileKind;
      size_before: number;
      size_after: number;
    }[];
    unchanged_count: number;
  };
  notebooks: {
    path: string;
    status: 'added' | 'removed' | 'changed';
    cells: ICellChange[];
    step_changed: boolean;
    counts: { added: number; removed: number; changed: number };
  }[];
  data: {
    path: string;
    kind: string;
    change: string;
    size_before: number | null;
    size_after: number | null;
    delta: number;
  }[];
  packages: {
    added: { name: string; version: string }[];
    removed: { name: string; version: string }[];
    upgraded: { name: string; from: string; to: string }[];
    downgraded: { name: string; from: string; to: string }[];
  };
  python: { before: string | null; after: string | null } | null;
  /** Notebook parameter defaults added, removed or changed. */
  parameters?: {
    notebook: string;
    name: string;
    change: 'added' | 'removed' | 'changed';
    before: unknown;
    after: unknown;
  }[];
  /** JSON files (metrics...) with their differing values side by side. */
  json_files?: {
    path: string;
    change: 'added' | 'removed' | 'changed';
    truncated: boolean;
    values: { key: string; change: string; before: unknown; after: unknown }[];
  }[];
  pipeline: INamedChanges;
  scenarios: INamedChanges;
  endpoints: INamedChanges;
}

export interface IBundleVerification {
  bundle_id: string;
  ok: boolean;
  manifest_ok: boolean;
  files_checked: number;
  bytes_checked: number;
  bad: { path: string; sha256: string; problem: string }[];
}

export interface INode {
  name: string;
  url: string;
  token_env: string;
  token_available: boolean;
  created_at: string;
}

export interface IEnvironmentReport {
  ok: boolean;
  problems: string[];
  /** deployed with env=recreate: the kernel of the bundle's own environment */
  kernel?: string;
}

export interface IDeployment {
  id: number;
  node: string;
  bundle_id: string;
  short_id: string;
  previous_bundle_id: string | null;
  action: 'deploy' | 'rollback';
  status: 'active' | 'superseded';
  active: boolean;
  actor: string | null;
  message: string;
  environment: IEnvironmentReport | null;
  created_at: string;
  superseded_at: string | null;
  bundle: { message: string; author: string | null; created_at: string } | null;
}

export interface IDeployResult {
  deployment: IDeployment;
  uploaded_blobs: number;
  uploaded_bytes: number;
  reused_blobs: number;
  environment: IEnvironmentReport;
  target: { kind: 'folder' | 'node'; name: string; address: string };
}

export interface IDeploymentHistory {
  node: string;
  active: IDeployment | null;
  deployments: IDeployment[];
  total: number;
}

export interface IAuditEvent {
  id: number;
  at: string;
  actor: string;
  action: string;
  object_type: string;
  object_id: string | null;
  node: string | null;
  bundle_id: string | null;
  previous_bundle_id: string | null;
  outcome: string;
  host: string | null;
  details: { [key: string]: unknown };
}

export interface IAuditList {
  events: IAuditEvent[];
  total: number;
}
