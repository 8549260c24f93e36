// Grow-only byte buffer, never value-initialized: one allocation serves every
// tensor of a run, so its pages are faulted in (and zeroed by the kernel)
// once per run instead of once per tensor, and no zero fill precedes the
// overwrite. On Linux a block of 2 MiB or more is a 2 MiB-aligned anonymous
// mapping that asks for transparent huge pages: 512x fewer page faults on
// first touch (a page fault costs tens of microseconds on some VMs).
#pragma once
#include <cstdint>
#include <new>
#include <utility>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace ms {

class GrowBuffer {
 public:
  GrowBuffer() = default;
  GrowBuffer(GrowBuffer&& o) noexcept { swap(o); }
  GrowBuffer& operator=(GrowBuffer&& o) noexcept {
    if (this != &o) {
      release();
      swap(o);
    }
    return *this;
  }
  GrowBuffer(const GrowBuffer&) = delete;
  GrowBuffer& operator=(const GrowBuffer&) = delete;
  ~GrowBuffer() { release(); }

  // At least `bytes` bytes (>= 1), 64-byte aligned; contents unspecified.
  void* ensure(uint64_t bytes) {
    if (bytes == 0) bytes = 1;  // never a null block, even for an empty tensor
    if (bytes > cap_) {
      release();  // free first: never hold the old and the new block at once
      allocate(bytes);
    }
    return p_;
  }
  template <class T>
  T* ensure_n(uint64_t n) {
    if (n > UINT64_MAX / sizeof(T)) throw std::bad_alloc();
    return static_cast<T*>(ensure(n * sizeof(T)));
  }
  void* data() const { return p_; }
  void swap(GrowBuffer& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(cap_, o.cap_);
    std::swap(map_, o.map_);
    std::swap(map_len_, o.map_len_);
  }
  void release() noexcept {
    if (map_) {
#ifdef __linux__
      ::munmap(map_, map_len_);
#endif
    } else {
      ::operator delete(p_, std::align_val_t(64));
    }
    p_ = nullptr;
    cap_ = 0;
    map_ = nullptr;
    map_len_ = 0;
  }

 private:
  static constexpr uint64_t kHuge = uint64_t(2) << 20;
  void allocate(uint64_t bytes) {
    if (bytes > UINT64_MAX - 2 * kHuge) throw std::bad_alloc();
#ifdef __linux__
    if (bytes >= kHuge) {
      const uint64_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
      const uint64_t len = rounded + kHuge;  // room to align the start to 2 MiB
      void* m = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) throw std::bad_alloc();
      const uintptr_t a = (reinterpret_cast<uintptr_t>(m) + kHuge - 1) & ~uintptr_t(kHuge - 1);
      (void)::madvise(reinterpret_cast<void*>(a), rounded, MADV_HUGEPAGE);  // advisory
      map_ = m;
      map_len_ = len;
      p_ = reinterpret_cast<void*>(a);
      cap_ = rounded;
      return;
    }
#endif
    p_ = ::operator new(bytes, std::align_val_t(64));
    cap_ = bytes;
  }
  void* p_ = nullptr;
  uint64_t cap_ = 0;
  void* map_ = nullptr;  // non-null: p_ lies in this mapping
  uint64_t map_len_ = 0;
};

}  // namespace ms
