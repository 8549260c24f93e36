export { makeArith, type Arith } from "./arith";
export {
  breadcrumbsModel,
  breadcrumbsTensor,
  DEFAULT_GAMMA,
  outlierTrim,
  type BreadcrumbsModel,
  type BreadcrumbsOptions,
  type BreadcrumbsTensorResult,
  type OutlierTrimInfo,
} from "./breadcrumbs";
export {
  dareDraw,
  dareKeepLimit,
  dareKeepMask,
  dareModel,
  dareStream,
  dareTensor,
  fnv1a64,
  mix64,
  randomTrim,
  type DareOptions,
  type DareRngKey,
  type DareTensorResult,
  type DareTrimInfo,
  type RandomTrimOptions,
} from "./dare";
export { alignToBase, isEmbedTensorName } from "./embed";
export { linear, type LinearModel, type LinearOptions } from "./linear";
export { loraMerge } from "./lora";
export { permutedEmbeddings, type EmbeddingModel } from "./permutedEmbeddings";
export { modelStock, type ModelStockOptions, type ModelStockResult } from "./modelStock";
export { slerp, SLERP_DOT_THRESHOLD, type SlerpOptions, type SlerpResult } from "./slerp";
export { tiledSum, SUM_TILE } from "./sum64";
export { taskArithmetic, type TaskArithmeticModel, type TaskArithmeticOptions } from "./taskArithmetic";
export { magnitudeOrder, magnitudeTrim, trimCount, type TrimInfo } from "./trim";
export {
  disjointMerge,
  elect,
  electTies,
  magnitudeTrimStep,
  sign,
  weighTaskVectors,
  tiesModel,
  tiesTensor,
  type TiesElection,
  type TiesModel,
  type TiesOptions,
  type TiesTensorInput,
  type TiesTensorResult,
  type TrimStep,
  type WeightedTaskVectors,
} from "./ties";
export { tiesSvModel, type TiesSvOptions, type TiesSvResult, type TiesSvScope, type TiesSvTensorResult } from "./tiesSv";
export { tiesStats, type TiesModelStats, type TiesStatsOptions, type TiesTensorStats } from "./tiesStats";
export type { ComputeMode, Consensus, Precision, RefTensor } from "./types";
