/** Shapes of the drift routes, generated from openapi.yaml (`jlpm build:types`
 * writes src/generated/openapi.ts): no hand-copied interfaces to drift. */
import { components } from './generated/openapi';

type Schemas = components['schemas'];

export type IDriftReport = Schemas['DriftReport'];
export type IFeatureDrift = Schemas['FeatureDrift'];
export type IDriftHistory = Schemas['DriftHistory'];
export type IDriftPoint = IDriftHistory['points'][number];
export type IPerformance = NonNullable<IDriftReport['performance']>;
export type IDistribution = IFeatureDrift['reference'];
