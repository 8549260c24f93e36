// Registration functions of the N-API binding files.
#pragma once
#include <napi.h>

namespace msbind {
void RegisterInfo(Napi::Env env, Napi::Object exports);
void RegisterMerge(Napi::Env env, Napi::Object exports);
}  // namespace msbind
