// Entry of the N-API addon: only registers exports. Each kernel family's
// binding lives in its own file; the N-API-free core is in native/core.
#include <napi.h>

#include "binding.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  msbind::RegisterInfo(env, exports);
  msbind::RegisterMerge(env, exports);
  return exports;
}

NODE_API_MODULE(mergescope_native, Init)
