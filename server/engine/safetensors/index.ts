export { buildHeader, byteSizeOf, numelOf, parseHeader, type SafetensorsHeader, type TensorInfo, type TensorLayout } from "./format";
export {
  createSafetensorsWriter,
  tensorBytes,
  writeSafetensors,
  type SafetensorsStreamWriter,
  type TensorToWrite,
} from "./write";
