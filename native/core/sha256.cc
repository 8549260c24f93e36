// SHA-256 from FIPS 180-4 section 6.2: a portable block function, and on
// x86-64 CPUs with the SHA extensions (SHA-NI) a hardware one picked at run
// time (~5-8x faster; shard checksums hash every output byte). Both produce
// the same digests (tests/test_model_io.cc compares them).
#include "sha256.h"

#include <atomic>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MS_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace ms {

namespace {

constexpr uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void blocks_portable(uint32_t h_[8], const uint8_t* p, uint64_t n_blocks) {
  for (; n_blocks > 0; --n_blocks, p += 64) {
    uint32_t w[64];
    for (int i = 0; i < 16; ++i)
      w[i] = uint32_t(p[4 * i]) << 24 | uint32_t(p[4 * i + 1]) << 16 | uint32_t(p[4 * i + 2]) << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h_[0], b = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6], h = h_[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
      const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h_[0] += a; h_[1] += b; h_[2] += c; h_[3] += d; h_[4] += e; h_[5] += f; h_[6] += g; h_[7] += h;
  }
}

#ifdef MS_SHA_NI
bool cpu_has_sha_ni() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool ssse3 = c & (1u << 9), sse41 = c & (1u << 19);
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return ssse3 && sse41 && (b & (1u << 29));
}

// Intel SHA extensions: state kept as ABEF / CDGH, 4 rounds per message vector.
__attribute__((target("sha,sse4.1,ssse3"))) void blocks_sha_ni(uint32_t h[8], const uint8_t* p, uint64_t n_blocks) {
  const __m128i kBswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i tmp = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h)), 0xB1);  // CDAB
  __m128i st1 = _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4)), 0x1B);  // EFGH
  __m128i st0 = _mm_alignr_epi8(tmp, st1, 8);     // ABEF
  st1 = _mm_blend_epi16(st1, tmp, 0xF0);          // CDGH
  for (; n_blocks > 0; --n_blocks, p += 64) {
    const __m128i save0 = st0, save1 = st1;
    __m128i w[4];
#pragma GCC unroll 16
    for (int g = 0; g < 16; ++g) {
      __m128i& cur = w[g & 3];
      if (g < 4) {
        cur = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * g)), kBswap);
      } else {  // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], four at a time
        const __m128i& m3 = w[(g - 3) & 3];
        const __m128i& m2 = w[(g - 2) & 3];
        const __m128i& m1 = w[(g - 1) & 3];
        cur = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(cur, m3), _mm_alignr_epi8(m1, m2, 4)), m1);
      }
      __m128i msg = _mm_add_epi32(cur, _mm_loadu_si128(reinterpret_cast<const __m128i*>(K + 4 * g)));
      st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
      msg = _mm_shuffle_epi32(msg, 0x0E);
      st0 = _mm_sha256rnds2_epu32(st0, st1, msg);
    }
    st0 = _mm_add_epi32(st0, save0);
    st1 = _mm_add_epi32(st1, save1);
  }
  tmp = _mm_shuffle_epi32(st0, 0x1B);             // FEBA
  st1 = _mm_shuffle_epi32(st1, 0xB1);             // DCHG
  st0 = _mm_blend_epi16(tmp, st1, 0xF0);          // DCBA
  st1 = _mm_alignr_epi8(st1, tmp, 8);             // HGFE
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), st0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), st1);
}
#endif

using BlocksFn = void (*)(uint32_t*, const uint8_t*, uint64_t);

BlocksFn best_blocks() {
#ifdef MS_SHA_NI
  if (cpu_has_sha_ni()) return blocks_sha_ni;
#endif
  return blocks_portable;
}

std::atomic<bool> g_force_portable{false};

inline BlocksFn blocks_fn() {
  static const BlocksFn best = best_blocks();
  return g_force_portable.load(std::memory_order_relaxed) ? blocks_portable : best;
}

}  // namespace

bool sha256_hw_available() { return best_blocks() != blocks_portable; }
void sha256_force_portable(bool on) { g_force_portable.store(on); }

void Sha256::init() {
  static constexpr uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::memcpy(h_, H0, sizeof h_);
  buf_len_ = 0;
  total_ = 0;
}

void Sha256::blocks(const uint8_t* p, uint64_t n_blocks) { blocks_fn()(h_, p, n_blocks); }

void Sha256::update(const void* data, uint64_t len) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  total_ += len;  // wraps after 2^64 bytes, like the spec's 64-bit length field allows
  if (buf_len_) {
    const uint64_t take = len < 64 - buf_len_ ? len : 64 - buf_len_;
    std::memcpy(buf_ + buf_len_, p, take);
    buf_len_ += take; p += take; len -= take;
    if (buf_len_ < 64) return;
    blocks(buf_, 1);
    buf_len_ = 0;
  }
  if (len >= 64) {
    const uint64_t nb = len / 64;
    blocks(p, nb);
    p += nb * 64;
    len -= nb * 64;
  }
  if (len) { std::memcpy(buf_, p, len); buf_len_ = len; }
}

void Sha256::final(uint8_t out[32]) {
  const uint64_t bits = total_ * 8;
  uint8_t pad[72] = {0x80};
  const uint64_t padlen = (buf_len_ < 56 ? 56 - buf_len_ : 120 - buf_len_);
  for (int i = 0; i < 8; ++i) pad[padlen + i] = uint8_t(bits >> (56 - 8 * i));
  const uint64_t keep = total_;
  update(pad, padlen + 8);
  total_ = keep;
  for (int i = 0; i < 8; ++i) {
    out[4 * i] = uint8_t(h_[i] >> 24); out[4 * i + 1] = uint8_t(h_[i] >> 16);
    out[4 * i + 2] = uint8_t(h_[i] >> 8); out[4 * i + 3] = uint8_t(h_[i]);
  }
}

std::string Sha256::final_hex() {
  uint8_t d[32];
  final(d);
  return to_hex(d, 32);
}

std::string to_hex(const uint8_t* p, uint64_t len) {
  static const char hex[] = "0123456789abcdef";
  std::string s(len * 2, '0');
  for (uint64_t i = 0; i < len; ++i) { s[2 * i] = hex[p[i] >> 4]; s[2 * i + 1] = hex[p[i] & 15]; }
  return s;
}

std::string sha256_hex(const void* data, uint64_t len) {
  Sha256 h;
  h.update(data, len);
  return h.final_hex();
}

}  // namespace ms
