export {
  PER_MODEL_FIELDS,
  buildStatsReport,
  discardedPercent,
  type PerModelCounts,
  type StatsGroup,
  type StatsReport,
  type StatsReportModel,
  type StatsReportOptions,
  type StatsReportSource,
  type TensorStatsEntry,
} from "./report";
export { MARGIN_BINS, marginBinOf, marginBinRange, marginsOf, type MarginHistogram } from "./margins";
export { addGeometry, geometryOf, withRatios, type Geometry, type GeometrySums } from "./geometry";
export { formatStatsSummary, hasElection, markdownTable, modelTotalsTable, signConflictLine } from "./summary";
export { TENSOR_MODULES, tagTensor, type TensorModule, type TensorTag } from "./tag-tensor";
