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
  streamTrim,
  type DareOptions,
  type DareRngKey,
  type DareTensorResult,
  type DareTrimInfo,
  type RandomTrimOptions,
} from "./dare";
export {
  DEFAULT_EPSILON,
  dellaModel,
  dellaTensor,
  dellaTrim,
  executionOrder,
  type DellaModel,
  type DellaOptions,
  type DellaTensorResult,
  type DellaTrimInfo,
} from "./della";
export { alignToBase, isEmbedTensorName } from "./embed";
export { introsort } from "./introsort";
export { bernoulliKeeps, MT19937 } from "./mt19937";
export { torchSum } from "./torchSum";
export { linear, type LinearModel, type LinearOptions } from "./linear";
export { loraMerge } from "./lora";
export { permutedEmbeddings, type EmbeddingModel } from "./permutedEmbeddings";
export { modelStock, type ModelStockOptions, type ModelStockResult } from "./modelStock";
export { slerp, SLERP_DOT_THRESHOLD, type SlerpOptions, type SlerpResult } from "./slerp";
export { tiledSum, SUM_TILE } from "./sum64";
export { taskArithmetic, type TaskArithmeticModel, type TaskArithmeticOptions } from "./taskArithmetic";
export { magnitudeKey, magnitudeOrder, magnitudeTrim, trimCount, type TrimInfo } from "./trim";
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
export { chunkedSum, GEOMETRY_CHUNK, keptMask, tensorGeometry, type TensorGeometryRef } from "./geometry";
export { tiesSvModel, type TiesSvOptions, type TiesSvResult, type TiesSvScope, type TiesSvTensorResult } from "./tiesSv";
export { tiesStats, type TiesModelStats, type TiesStatsOptions, type TiesTensorStats } from "./tiesStats";
export type { ComputeMode, Consensus, Precision, RefTensor } from "./types";
export { passthrough } from "./passthrough";
export { sce, type SceModelStats, type SceOptions, type SceResult } from "./sce";
export { karcher, multislerp, nuslerp, type KarcherOptions, type KarcherResult, type MultislerpOptions, type NuslerpOptions, type NuslerpResult } from "./spherical";
export { arceeFusion, arceeImportance64, nearswap, type ArceeFusionResult, type NearswapResult } from "./fusion";
export { torchTopkIndices } from "./torchTopk";
