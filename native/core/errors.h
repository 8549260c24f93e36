// Stable error codes shared by every part of the N-API-free merge core.
// The string names (error_code_name) are part of the public contract: the
// TypeScript wrapper, the job queue and the UI match on them. Never renumber
// or rename; add new codes at the end of their group (or after PATH_*).
//
// This list is the one source of truth for codes, their meaning and whether a
// job failing with one may be retried: scripts/gen-error-codes.mjs turns it into
// server/engine/error-codes.generated.ts (a unit test fails when they differ).
// PERMANENT: retrying cannot help (bad input, refused path); TRANSIENT: may.
#pragma once
#include <stdexcept>
#include <string>

namespace ms {

// X(name, permanence, description)
#define MS_ERROR_CODES(X) \
  /* --- safetensors file format (one code per failure, like safetensors' tensor.rs) */ \
  X(ST_FILE_TOO_SMALL, PERMANENT, "fewer than 8 bytes: no header length") \
  X(ST_HEADER_TOO_LARGE, PERMANENT, "declared header length above the limit (100 MB)") \
  X(ST_HEADER_LENGTH_INVALID, PERMANENT, "declared header length runs past the end of the file") \
  X(ST_HEADER_NOT_UTF8, PERMANENT, "header bytes are not valid UTF-8") \
  X(ST_HEADER_START_INVALID, PERMANENT, "header does not start with '{'") \
  X(ST_HEADER_JSON_INVALID, PERMANENT, "header is not valid JSON") \
  X(ST_HEADER_DUPLICATE_KEY, PERMANENT, "same tensor name (or any object key) twice") \
  X(ST_TENSOR_INFO_INVALID, PERMANENT, "entry lacks dtype/shape/data_offsets or has wrong types") \
  X(ST_DTYPE_UNKNOWN, PERMANENT, "dtype string not a safetensors dtype") \
  X(ST_SHAPE_OVERFLOW, PERMANENT, "numel * itemsize overflows 64 bits") \
  X(ST_TENSOR_SIZE_MISMATCH, PERMANENT, "data_offsets length != numel * itemsize") \
  X(ST_OFFSETS_INVALID, PERMANENT, "offsets not contiguous: gap, overlap or begin > end") \
  X(ST_DATA_TRUNCATED, PERMANENT, "data section shorter than the offsets need") \
  X(ST_TRAILING_BYTES, PERMANENT, "bytes after the last tensor") \
  X(ST_METADATA_INVALID, PERMANENT, "__metadata__ not an object of string values") \
  X(ST_PICKLE_FORMAT, PERMANENT, "file is a Python pickle (PyTorch .bin), not safetensors") \
  X(ST_ZIP_FORMAT, PERMANENT, "file is a zip archive (PyTorch .pt/.bin), not safetensors") \
  X(ST_IO, PERMANENT, "read failed, or file changed/truncated while reading") \
  /* --- model.safetensors.index.json */ \
  X(IDX_JSON_INVALID, PERMANENT, "not valid JSON / not an object") \
  X(IDX_WEIGHT_MAP_INVALID, PERMANENT, "weight_map missing or not {string: string}") \
  X(IDX_SHARD_PATH_INVALID, PERMANENT, "shard file name escapes the model directory") \
  X(IDX_SHARD_MISSING, PERMANENT, "a listed shard file does not exist") \
  X(IDX_TENSOR_NOT_IN_SHARD, PERMANENT, "index names a tensor the shard does not hold (or vice versa)") \
  /* --- model directories and tensor matching */ \
  X(MODEL_NOT_FOUND, PERMANENT, "path does not exist or holds no safetensors weights") \
  X(MODEL_TENSOR_MISSING, PERMANENT, "a tensor of the base is absent from another model") \
  X(MODEL_TENSOR_EXTRA, PERMANENT, "a model has a tensor the base does not") \
  X(MODEL_SHAPE_MISMATCH, PERMANENT, "shapes differ (other than embedding row cuts)") \
  X(MODEL_DTYPE_UNSUPPORTED, PERMANENT, "dtype other than F32/F16/BF16 in a merged tensor") \
  /* --- recipe / parameters */ \
  X(RECIPE_INVALID, PERMANENT, "parameter out of range or inconsistent") \
  /* --- output */ \
  X(OUT_NO_SPACE, PERMANENT, "not enough free space at the destination") \
  X(OUT_EXISTS, PERMANENT, "destination exists and overwrite was not asked") \
  X(OUT_IO, TRANSIENT, "write/fsync/rename failed") \
  /* --- control */ \
  X(CANCELLED, PERMANENT, "aborted by the caller") \
  X(INTERNAL, TRANSIENT, "a bug: invariant violated") \
  /* --- paths (after INTERNAL so no existing code is renumbered) */ \
  X(PATH_NOT_ALLOWED, PERMANENT, "a file the engine opened resolves outside the allowed roots (path_policy.h)") \
  /* end */

enum class ErrorCode {
#define MS_ENUM(name, kind, doc) name,
  MS_ERROR_CODES(MS_ENUM)
#undef MS_ENUM
};

inline const char* error_code_name(ErrorCode c) {
  switch (c) {
#define MS_CASE(name, kind, doc) \
  case ErrorCode::name:          \
    return #name;
    MS_ERROR_CODES(MS_CASE)
#undef MS_CASE
  }
  return "INTERNAL";
}

/** Whether a job failing with this code fails at once (true) or may be retried. */
inline bool error_code_permanent(ErrorCode c) {
  switch (c) {
#define MS_CASE(name, kind, doc) \
  case ErrorCode::name:          \
    return MS_ERROR_##kind;
#define MS_ERROR_PERMANENT true
#define MS_ERROR_TRANSIENT false
    MS_ERROR_CODES(MS_CASE)
#undef MS_CASE
#undef MS_ERROR_PERMANENT
#undef MS_ERROR_TRANSIENT
  }
  return false;
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
