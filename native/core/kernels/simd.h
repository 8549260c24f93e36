// Runtime-dispatched vector variants for hot loops.
//
// MS_CLONES makes GCC compile a function for AVX-512, AVX2 and the baseline
// ISA and pick one at load time (ifunc), so the portable x86-64 build still
// uses the host's vector units. Every variant must give bit-identical results:
// kernels use only integer ops and single IEEE-rounded float ops, and the .cc
// files that use MS_CLONES start with
//   #pragma GCC optimize("fp-contract=off", "vect-cost-model=dynamic")
// (no a*b+c -> FMA contraction, which the AVX-512 clone would otherwise do;
// plain -O2 only vectorizes loops with constant trip counts).
// Define MS_NO_CLONES to build a single baseline variant.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(MS_NO_CLONES)
#define MS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MS_CLONES
#endif
