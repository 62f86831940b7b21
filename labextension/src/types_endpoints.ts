/** Shapes of the serving routes (openapi.yaml: Endpoint, EndpointStats, ServerInfo). */

export interface ITraffic {
  weights: { [version: string]: number };
  shadow: string | null;
  sticky_header: string | null;
}

export interface IEndpointVersion {
  version: string;
  source: string;
  notebook: string;
  status: string;
  error: string | null;
  weight: number;
  shadow: boolean;
  live: boolean;
  created_at: string | null;
}

export interface IEndpoint {
  name: string;
  description: string;
  revision: number;
  traffic: ITraffic | null;
  mode: string | null;
  versions: IEndpointVersion[];
  keys: number;
  sample: unknown;
  paths: { predict: string; invocations: string; openapi: string; info: string };
  servers: { server_id: string; url: string }[];
}

export interface IVersionStats {
  /** Totals since the server started. */
  requests: number;
  errors: number;
  codes: { [code: string]: number };
  req_per_s: number | null;
  error_rate: number | null;
  /** Over the stats' window (the last minutes). */
  latency_ms: { p50: number; p90: number; p95?: number; p99: number } | null;
}

export interface IEndpointStats {
  endpoint: string;
  window_s: number | null;
  versions: { [version: string]: IVersionStats };
}

export interface ITestResult {
  status: number;
  body: unknown;
  version: string | null;
  latency_ms: number | null;
  via: string;
}

export interface IServerInfo {
  server_id: string;
  url: string;
  host: string;
  port: number;
  workers: number;
  endpoints: string[] | null;
  started_here?: boolean;
}
