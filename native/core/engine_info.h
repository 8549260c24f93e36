// What this build of the engine is and can do (reported by the health check).
#pragma once
#include <string>
#include <vector>

namespace ms {

struct EngineInfo {
  std::string version;             // engine version, bumped with any numeric change
  std::string compiler;            // compiler that built the core
  unsigned hardware_threads;       // std::thread::hardware_concurrency()
  std::vector<std::string> cpu_features;  // runtime-detected SIMD features
  std::vector<std::string> methods;       // merge methods the kernels implement
  std::vector<std::string> dtypes;        // storage dtypes accepted for merging
};

EngineInfo engine_info();

}  // namespace ms
