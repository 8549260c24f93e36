// passthrough: mergekit's PassthroughMerge — exactly one input per output
// tensor, copied, or multiplied by the model's `scale` when one is set.
#include <algorithm>
#include <cstring>

#include "kernels/common.h"
#include "kernels/kernels.h"

namespace ms::kern {

// passthrough, shape: out[n] = has_scale ? R(x[n] * float(scale)) : x[n]
// torch multiplies a tensor by a Python scalar as float32(scale) in float32
// and rounds the product to the tensor's dtype once (README "Method semantics").
void run_passthrough(const Job& job) {
  if (job.stats) {
    job.stats->models[0].nnz_trimmed = 0;
    job.stats->models[0].n_contributing = job.n;
  }
  if (!job.out) return;
  const float* x = job.models[0];
  const ModelParams& m = job.mp[0];
  if (!m.has_scale) {
    if (job.out != x) std::memcpy(job.out, x, job.n * sizeof(float));
    return;
  }
  const float s = float(m.scale);
  const DType r = job.p->compute;
  job.pool->parallel_for(n_chunks(job.n), [&](uint64_t c) {
    check_cancel(job.cancel);
    const uint64_t j0 = c * kChunk, j1 = std::min(job.n, j0 + kChunk);
    for (uint64_t j = j0; j < j1; ++j) job.out[j] = x[j] * s;
    if (r != DType::F32) round_buffer(job.out + j0, j1 - j0, r);
  });
}

}  // namespace ms::kern
