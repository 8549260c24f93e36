// libFuzzer harness: safetensors_header (see fuzz_checks.h for the oracle, scripts/fuzz.mjs to run).
// A MergeError / rejected parse is the expected outcome for bad input; any
// other exception or violated invariant aborts (a finding), as do crashes,
// sanitizer reports, timeouts and the RSS limit.
#include <cstdio>
#include <cstdlib>

#include "fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const msfuzz::Outcome o = msfuzz::check_safetensors(data, size);
  if (!o.bug.empty()) {
    std::fprintf(stderr, "==fuzz_safetensors_header== BUG: %s\n", o.bug.c_str());
    std::abort();
  }
  return 0;
}
