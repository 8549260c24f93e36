// Stable error codes shared by every part of the N-API-free merge core.
// The string names (error_code_name) are part of the public contract: the
// TypeScript wrapper, the job queue and the UI match on them. Never renumber
// or rename; add new codes at the end of their group.
#pragma once
#include <stdexcept>
#include <string>

namespace ms {

enum class ErrorCode {
  // --- safetensors file format (one code per failure, like safetensors' tensor.rs)
  ST_FILE_TOO_SMALL,        // fewer than 8 bytes: no header length
  ST_HEADER_TOO_LARGE,      // declared header length above the limit (100 MB)
  ST_HEADER_LENGTH_INVALID, // declared header length runs past the end of the file
  ST_HEADER_NOT_UTF8,       // header bytes are not valid UTF-8
  ST_HEADER_START_INVALID,  // header does not start with '{'
  ST_HEADER_JSON_INVALID,   // header is not valid JSON
  ST_HEADER_DUPLICATE_KEY,  // same tensor name (or any object key) twice
  ST_TENSOR_INFO_INVALID,   // entry lacks dtype/shape/data_offsets or has wrong types
  ST_DTYPE_UNKNOWN,         // dtype string not a safetensors dtype
  ST_SHAPE_OVERFLOW,        // numel * itemsize overflows 64 bits
  ST_TENSOR_SIZE_MISMATCH,  // data_offsets length != numel * itemsize
  ST_OFFSETS_INVALID,       // offsets not contiguous: gap, overlap or begin > end
  ST_DATA_TRUNCATED,        // data section shorter than the offsets need
  ST_TRAILING_BYTES,        // bytes after the last tensor
  ST_METADATA_INVALID,      // __metadata__ not an object of string values
  ST_PICKLE_FORMAT,         // file is a Python pickle (PyTorch .bin), not safetensors
  ST_ZIP_FORMAT,            // file is a zip archive (PyTorch .pt/.bin), not safetensors
  ST_IO,                    // read failed, or file changed/truncated while reading
  // --- model.safetensors.index.json
  IDX_JSON_INVALID,         // not valid JSON / not an object
  IDX_WEIGHT_MAP_INVALID,   // weight_map missing or not {string: string}
  IDX_SHARD_PATH_INVALID,   // shard file name escapes the model directory
  IDX_SHARD_MISSING,        // a listed shard file does not exist
  IDX_TENSOR_NOT_IN_SHARD,  // index names a tensor the shard does not hold (or vice versa)
  // --- model directories and tensor matching
  MODEL_NOT_FOUND,          // path does not exist or holds no safetensors weights
  MODEL_TENSOR_MISSING,     // a tensor of the base is absent from another model
  MODEL_TENSOR_EXTRA,       // a model has a tensor the base does not
  MODEL_SHAPE_MISMATCH,     // shapes differ (other than embedding row cuts)
  MODEL_DTYPE_UNSUPPORTED,  // dtype other than F32/F16/BF16 in a merged tensor
  // --- recipe / parameters
  RECIPE_INVALID,           // parameter out of range or inconsistent
  // --- output
  OUT_NO_SPACE,             // not enough free space at the destination
  OUT_EXISTS,               // destination exists and overwrite was not asked
  OUT_IO,                   // write/fsync/rename failed
  // --- control
  CANCELLED,                // aborted by the caller
  INTERNAL,                 // a bug: invariant violated
  // --- paths (after INTERNAL so no existing code is renumbered)
  PATH_NOT_ALLOWED,         // a file the engine opened resolves outside the allowed roots (path_policy.h)
};

inline const char* error_code_name(ErrorCode c) {
  switch (c) {
#define MS_CASE(x) case ErrorCode::x: return #x;
    MS_CASE(ST_FILE_TOO_SMALL) MS_CASE(ST_HEADER_TOO_LARGE) MS_CASE(ST_HEADER_LENGTH_INVALID)
    MS_CASE(ST_HEADER_NOT_UTF8) MS_CASE(ST_HEADER_START_INVALID) MS_CASE(ST_HEADER_JSON_INVALID)
    MS_CASE(ST_HEADER_DUPLICATE_KEY) MS_CASE(ST_TENSOR_INFO_INVALID) MS_CASE(ST_DTYPE_UNKNOWN)
    MS_CASE(ST_SHAPE_OVERFLOW) MS_CASE(ST_TENSOR_SIZE_MISMATCH) MS_CASE(ST_OFFSETS_INVALID)
    MS_CASE(ST_DATA_TRUNCATED) MS_CASE(ST_TRAILING_BYTES) MS_CASE(ST_METADATA_INVALID)
    MS_CASE(ST_PICKLE_FORMAT) MS_CASE(ST_ZIP_FORMAT) MS_CASE(ST_IO)
    MS_CASE(IDX_JSON_INVALID) MS_CASE(IDX_WEIGHT_MAP_INVALID) MS_CASE(IDX_SHARD_PATH_INVALID)
    MS_CASE(IDX_SHARD_MISSING) MS_CASE(IDX_TENSOR_NOT_IN_SHARD)
    MS_CASE(MODEL_NOT_FOUND) MS_CASE(MODEL_TENSOR_MISSING) MS_CASE(MODEL_TENSOR_EXTRA)
    MS_CASE(MODEL_SHAPE_MISMATCH) MS_CASE(MODEL_DTYPE_UNSUPPORTED)
    MS_CASE(RECIPE_INVALID)
    MS_CASE(OUT_NO_SPACE) MS_CASE(OUT_EXISTS) MS_CASE(OUT_IO)
    MS_CASE(CANCELLED) MS_CASE(INTERNAL)
    MS_CASE(PATH_NOT_ALLOWED)
#undef MS_CASE
  }
  return "INTERNAL";
}

// Thrown by the core; the N-API layer converts it into a JS Error with `.code`.
// Messages name the file and tensor and say how to fix it where possible.
class MergeError : public std::runtime_error {
 public:
  MergeError(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }
  const char* code_name() const { return error_code_name(code_); }

 private:
  ErrorCode code_;
};

}  // namespace ms
