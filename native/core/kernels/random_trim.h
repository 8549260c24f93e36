// mergekit's random trims, drawn from torch's MT19937 stream (kernels/
// mt19937.h): DARE's `torch.bernoulli(full_like(delta, density))` and DELLA's
// magnitude-ranked keep probabilities (`sparsify.della_magprune`), each with
// its L1 rescale from torch's sums (kernels/torch_sum.h). One 32-bit draw
// per element in flat (row-major) order, so a model's mask takes the next
// numel draws of the stream: the caller draws the models in recipe order and
// the tensors in mergekit's execution order (docs/merge-methods.md).
//
// Work dtype W (mergekit): BF16 when the task vector is BF16, else float32.
// The trimmed entry is keep ? R(float(d) * ratio) : 0 with R the compute
// dtype's rounding (ratio = 1 and no product without rescale).
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/mt19937.h"

namespace ms {
class GrowBuffer;
}

namespace ms::kern {

struct StreamMask {
  bool active = false;              // a mask was drawn (else the task vector is kept whole)
  const uint64_t* bits = nullptr;   // keep bit of each flat index
  uint64_t kept = 0;
  bool scale = false;               // the L1 rescale applies (both sums >= eps)
  float ratio = 1;
  uint64_t first_draw = 0, draws = 0;  // stream position of the first draw, draws taken
  float p_min = 0, p_max = 0;       // keep probabilities (DELLA: the row's extremes; DARE: density)
  std::vector<uint64_t> own;        // bit storage when no scratch buffer was given
};

// DARE (dare_linear / dare_ties with the mergekit stream): keep probability
// float32(W(density)) for every element.
void stream_bernoulli(const Job& job, uint32_t model, double density, Mt19937& mt, GrowBuffer* bits, StreamMask* out);

// DELLA: per row (2-D: each dim-0 index; 1-D: the whole tensor), ranks of
// |delta| in ascending order (torch.argsort: libstdc++ introsort order of
// equal magnitudes, or lowest index first under TieOrder::Index), then
// p = (density - epsilon) + rank_norm * 2 * epsilon, every op rounded to W.
// Requires 0 < density < 1 and density +- epsilon inside (0, 1).
void stream_della(const Job& job, uint32_t model, double density, double epsilon, Mt19937& mt, GrowBuffer* bits,
                  GrowBuffer* limits, StreamMask* out);

}  // namespace ms::kern
