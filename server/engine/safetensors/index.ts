export { buildHeader, byteSizeOf, numelOf, parseHeader, type SafetensorsHeader, type TensorInfo, type TensorLayout } from "./format";
export { readHeader, readSafetensors, typedView, type RawTensor, type SafetensorsFile, type TypedTensorArray } from "./read";
export {
  createSafetensorsWriter,
  tensorBytes,
  writeSafetensors,
  type SafetensorsStreamWriter,
  type TensorToWrite,
} from "./write";
export { openCheckpoint, type Checkpoint } from "./checkpoint";
