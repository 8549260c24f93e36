// DARE's counter-based keep/drop generator (docs/merge-methods.md). Every
// draw is a pure function of (seed, tensor name, model index, flat index), so
// masks never depend on threads, chunking or tensor order.
#pragma once
#include <cstdint>
#include <string>

namespace ms::kern {

constexpr uint64_t kDareGolden = 0x9E3779B97F4A7C15ull;

inline uint64_t dare_mix64(uint64_t z) {
  z ^= z >> 30;
  z *= 0xBF58476D1CE4E5B9ull;
  z ^= z >> 27;
  z *= 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline uint64_t dare_fnv1a64(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

inline uint64_t dare_stream_of(uint64_t seed, uint64_t key, uint32_t model_index) {
  return dare_mix64(seed ^ dare_mix64(key + kDareGolden * (uint64_t(model_index) + 1)));
}

// 53 random bits for flat index j.
inline uint64_t dare_u53(uint64_t stream, uint64_t j) { return dare_mix64(stream + kDareGolden * (j + 1)) >> 11; }

// floor(density * 2^53) for density in [0, 1); the product is exact (power-of-two scale).
inline uint64_t dare_threshold_of(double density) {
  if (!(density > 0)) return 0;
  if (density >= 1) return uint64_t(1) << 53;
  return uint64_t(density * 9007199254740992.0);
}

}  // namespace ms::kern
