// Streaming SHA-256 (FIPS 180-4), used to checksum written shards.
#pragma once
#include <cstdint>
#include <string>

namespace ms {

class Sha256 {
 public:
  Sha256() { init(); }
  void init();
  void update(const void* data, uint64_t len);
  // Writes the 32-byte digest; the object must be init()ed before reuse.
  void final(uint8_t out[32]);
  std::string final_hex();  // lowercase hex, 64 chars

 private:
  void blocks(const uint8_t* p, uint64_t n_blocks);
  uint32_t h_[8];
  uint8_t buf_[64];
  uint64_t buf_len_ = 0;
  uint64_t total_ = 0;  // bytes hashed
};

// True if the hardware (SHA-NI) block function is used on this CPU.
bool sha256_hw_available();
// Tests: force the portable block function (process-wide) to compare both.
void sha256_force_portable(bool on);

std::string to_hex(const uint8_t* p, uint64_t len);
std::string sha256_hex(const void* data, uint64_t len);  // one-shot

}  // namespace ms
