export { makeArith, type Arith } from "./arith";
export { alignToBase, isEmbedTensorName } from "./embed";
export { linear, type LinearModel, type LinearOptions } from "./linear";
export { taskArithmetic, type TaskArithmeticModel, type TaskArithmeticOptions } from "./taskArithmetic";
export { magnitudeTrim, trimCount, type TrimInfo } from "./trim";
export {
  disjointMerge,
  electTies,
  sign,
  tiesModel,
  tiesTensor,
  type TiesElection,
  type TiesModel,
  type TiesOptions,
  type TiesTensorInput,
  type TiesTensorResult,
} from "./ties";
export { tiesSvModel, type TiesSvOptions, type TiesSvResult, type TiesSvScope, type TiesSvTensorResult } from "./tiesSv";
export { tiesStats, type TiesModelStats, type TiesStatsOptions, type TiesTensorStats } from "./tiesStats";
export type { ComputeMode, Consensus, Precision, RefTensor } from "./types";
