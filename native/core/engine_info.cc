#include "engine_info.h"

#include <thread>

#include "merge_kernels.h"

namespace ms {

static constexpr const char* kEngineVersion = "0.1.0";

EngineInfo engine_info() {
  EngineInfo info;
  info.version = kEngineVersion;
#if defined(__clang__)
  info.compiler = "clang " __clang_version__;
#elif defined(__GNUC__)
  info.compiler = "gcc " __VERSION__;
#else
  info.compiler = "unknown";
#endif
  info.hardware_threads = std::thread::hardware_concurrency();
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) info.cpu_features.push_back("sse4.2");
  if (__builtin_cpu_supports("avx2")) info.cpu_features.push_back("avx2");
  if (__builtin_cpu_supports("f16c")) info.cpu_features.push_back("f16c");
  if (__builtin_cpu_supports("avx512f")) info.cpu_features.push_back("avx512f");
  if (__builtin_cpu_supports("avx512bw")) info.cpu_features.push_back("avx512bw");
#elif defined(__aarch64__)
  info.cpu_features.push_back("neon");
#endif
  info.methods = all_method_names();
  info.dtypes = {"F32", "F16", "BF16"};
  return info;
}

}  // namespace ms
