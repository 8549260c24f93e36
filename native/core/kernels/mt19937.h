// torch's CPU generator (aten/src/ATen/core/MT19937RNGEngine.h): the
// standard 32-bit Mersenne Twister, seeded like torch.manual_seed(S) =
// init_genrand(S & 0xffffffff). mergekit's random masks (DARE's
// torch.bernoulli, DELLA) take one 32-bit output o per element and keep it iff
// (o & 0xFFFFFF) * 2^-24 < float32(p) (docs/merge-methods.md, "Random streams").
#pragma once
#include <cstdint>

namespace ms::kern {

class Mt19937 {
 public:
  static constexpr int kN = 624, kM = 397;

  explicit Mt19937(uint64_t seed = 5489) { reseed(seed); }

  void reseed(uint64_t seed) {
    s_[0] = uint32_t(seed & 0xffffffffu);
    for (int j = 1; j < kN; ++j) s_[j] = 1812433253u * (s_[j - 1] ^ (s_[j - 1] >> 30)) + uint32_t(j);
    i_ = kN;
    drawn_ = 0;
  }

  uint32_t next() {
    if (i_ == kN) twist();
    ++drawn_;
    return temper(s_[i_++]);
  }

  // n consecutive outputs (block-wise: the twist and the tempering vectorize).
  void fill(uint32_t* out, uint64_t n) {
    while (n > 0) {
      if (i_ == kN) twist();
      const uint64_t m = n < uint64_t(kN - i_) ? n : uint64_t(kN - i_);
      const uint32_t* s = s_ + i_;
      for (uint64_t j = 0; j < m; ++j) out[j] = temper(s[j]);
      out += m;
      n -= m;
      i_ += int(m);
      drawn_ += m;
    }
  }

  // Outputs drawn since the last reseed (the stream position).
  uint64_t drawn() const { return drawn_; }

 private:
  static uint32_t temper(uint32_t y) {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    return y ^ (y >> 18);
  }
  static uint32_t mix(uint32_t u, uint32_t v) {
    const uint32_t y = (u & 0x80000000u) | (v & 0x7fffffffu);
    return (y >> 1) ^ ((v & 1u) ? 0x9908b0dfu : 0u);
  }
  void twist() {
    int j = 0;
    for (; j < kN - kM; ++j) s_[j] = s_[j + kM] ^ mix(s_[j], s_[j + 1]);
    for (; j < kN - 1; ++j) s_[j] = s_[j + kM - kN] ^ mix(s_[j], s_[j + 1]);
    s_[kN - 1] = s_[kM - 1] ^ mix(s_[kN - 1], s_[0]);
    i_ = 0;
  }

  uint32_t s_[kN];
  int i_ = kN;
  uint64_t drawn_ = 0;
};

// Keep test of one draw against a keep probability p (a float32 value):
// (o & 0xFFFFFF) * 2^-24 < p  <=>  (o & 0xFFFFFF) < keep_limit(p), exactly.
inline uint32_t keep_limit(float p) {
  if (!(p > 0.f)) return 0;
  if (p >= 1.f) return uint32_t(1) << 24;
  const float scaled = p * 16777216.0f;  // exact: a power-of-two scale of a float in (0, 1)
  const uint32_t fl = uint32_t(scaled);
  return float(fl) == scaled ? fl : fl + 1;  // ceil: the smallest m with m >= p * 2^24
}
inline bool mt_keeps(uint32_t o, uint32_t limit) { return (o & 0xFFFFFFu) < limit; }

}  // namespace ms::kern
