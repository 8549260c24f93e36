// Test-side safetensors reader (the product writes safetensors and parses them
// natively; reading whole files into JS is only needed by tests and oracles).
export { readHeader, readSafetensors, typedView, type RawTensor, type SafetensorsFile, type TypedTensorArray } from "./read";
export { openCheckpoint, type Checkpoint } from "./checkpoint";
