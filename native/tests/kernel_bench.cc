// Kernel timing (not a test). Build and run from native/:
//   g++ -std=c++20 -O2 -pthread -Icore -Itests tests/kernel_bench.cc out/rel/libmscore.a -o out/rel/kernel_bench
//   out/rel/kernel_bench [n_elements] [threads]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include <ctime>

#include "kernels/kernels.h"
#include "merge_kernels.h"

using namespace ms;
using Clock = std::chrono::steady_clock;

static double secs(Clock::time_point a) { return std::chrono::duration<double>(Clock::now() - a).count(); }
static double cpu_now() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 65536000ull;
  const unsigned th = argc > 2 ? unsigned(std::atoi(argv[2])) : 2;
  ThreadPool pool(th);
  std::vector<float> base(n), a(n), b(n), out(n), tmp(n);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  for (uint64_t i = 0; i < n; ++i) {
    base[i] = round_bf16(u(rng) * 0.05f);
    a[i] = round_bf16(base[i] + u(rng) * 0.002f);
    b[i] = round_bf16(base[i] + u(rng) * 0.002f);
  }
  std::memset(out.data(), 0, n * 4);
  std::memset(tmp.data(), 0, n * 4);
  const double gb = double(n) * 4 / 1e9;

  auto best = [](auto fn) { double t = 1e9; for (int r = 0; r < 3; ++r) { auto t0 = Clock::now(); fn(); t = std::min(t, secs(t0)); } return t; };
  const double t_memcpy = best([&] { std::memcpy(tmp.data(), a.data(), n * 4); });
  const double t_memcpy_par = best([&] {
    const uint64_t chunk = 1 << 20;
    pool.parallel_for((n + chunk - 1) / chunk, [&](uint64_t c) {
      const uint64_t j0 = c * chunk, m = std::min(chunk, n - j0);
      std::memcpy(tmp.data() + j0, a.data() + j0, m * 4);
    });
  });
  std::printf("n=%llu (%.2f GB per array), threads=%u\n", (unsigned long long)n, gb, th);
  std::printf("memcpy 1 array (1 thread):            %.3f s\n", t_memcpy);
  std::printf("memcpy 1 array (%u threads, chunked):  %.3f s\n", th, t_memcpy_par);
  // floor for a merge of 2 models: read base, a, b + write out
  const double t_stream = best([&] {
    const uint64_t chunk = 1 << 16;
    pool.parallel_for((n + chunk - 1) / chunk, [&](uint64_t c) {
      const uint64_t j0 = c * chunk, j1 = std::min(n, j0 + chunk);
      for (uint64_t j = j0; j < j1; ++j) out[j] = base[j] + (a[j] - base[j]) + (b[j] - base[j]);
    });
  });
  std::printf("stream 3 reads + 1 write (%u threads): %.3f s\n", th, t_stream);

  const float* models[2] = {a.data(), b.data()};
  struct Cfg { const char* name; Method m; DType dt; double da, db; bool stats; };
  const Cfg cfgs[] = {
      {"ties f32  d=0.2/1.0 stats", Method::Ties, DType::F32, 0.2, 1.0, true},
      {"ties f32  d=0.2/1.0 nostats", Method::Ties, DType::F32, 0.2, 1.0, false},
      {"ties f32  d=0.2/0.2 stats", Method::Ties, DType::F32, 0.2, 0.2, true},
      {"ties bf16 d=0.2/1.0 stats", Method::Ties, DType::BF16, 0.2, 1.0, true},
      {"ties bf16 d=0.2/0.2 stats", Method::Ties, DType::BF16, 0.2, 0.2, true},
      {"ties f32  d=1.0/1.0 stats", Method::Ties, DType::F32, 1.0, 1.0, true},
      {"task_arith f32", Method::TaskArithmetic, DType::F32, 1, 1, false},
      {"linear f32", Method::Linear, DType::F32, 1, 1, false},
      {"ties_sv bf16 tensor-scope d=0.2/1.0 slack .1", Method::TiesSV, DType::BF16, 0.2, 1.0, true},
  };
  for (const Cfg& c : cfgs) {
    ModelParams mp[2] = {{1, c.da, true}, {1, c.db, false}};
    MergeParams p;
    p.method = c.m;
    p.compute = c.dt;
    p.normalize = c.m != Method::TaskArithmetic;
    p.slack = 0.1;
    p.slack_scope = SlackScope::Tensor;
    TensorStats st;
    double cpu = 1e9;
    const uint64_t fb0 = kern::g_topk_fallbacks.load();
    const double t = best([&] {
      const double c0 = cpu_now();
      merge_tensor(out.data(), c.stats ? &st : nullptr, base.data(), models, 2, n, mp, p, pool);
      cpu = std::min(cpu, cpu_now() - c0);
    });
    std::printf("%-45s wall %.3f s  cpu %.3f s  (wall %.2fx memcpy-1-thread, %.2fx stream floor)%s\n", c.name, t, cpu,
                t / t_memcpy, t / t_stream, kern::g_topk_fallbacks.load() != fb0 ? "  [top-k fallback]" : "");
  }
  return 0;
}
