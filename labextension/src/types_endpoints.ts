/** Shapes of the serving routes, generated from openapi.yaml (`jlpm build:types`
 * writes src/generated/openapi.ts): no hand-copied interfaces to drift. */
import { components } from './generated/openapi';

type Schemas = components['schemas'];

export type ITraffic = NonNullable<Schemas['Traffic']>;
export type IEndpointVersion = Schemas['EndpointVersion'];
export type IEndpoint = Schemas['Endpoint'];
export type IEndpointStats = Schemas['EndpointStats'];
/** Totals since the server started; rates and latency over the stats' window. */
export type IVersionStats = IEndpointStats['versions'][string];
export type ITestResult = Schemas['ScoreResult'];
export type IServerInfo = Schemas['ServerInfo'];
