// engineInfo(): version and capabilities of the native engine.
#include <napi.h>

#include "binding.h"
#include "engine_info.h"

namespace msbind {

static Napi::Array ToArray(Napi::Env env, const std::vector<std::string>& items) {
  Napi::Array arr = Napi::Array::New(env, items.size());
  for (size_t i = 0; i < items.size(); ++i) arr.Set(static_cast<uint32_t>(i), items[i]);
  return arr;
}

static Napi::Value EngineInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ms::EngineInfo e = ms::engine_info();
  Napi::Object out = Napi::Object::New(env);
  out.Set("version", e.version);
  out.Set("compiler", e.compiler);
  out.Set("napiVersion", NAPI_VERSION);
  out.Set("hardwareThreads", e.hardware_threads);
  out.Set("cpuFeatures", ToArray(env, e.cpu_features));
  out.Set("methods", ToArray(env, e.methods));
  out.Set("dtypes", ToArray(env, e.dtypes));
  return out;
}

void RegisterInfo(Napi::Env env, Napi::Object exports) {
  exports.Set("engineInfo", Napi::Function::New(env, EngineInfo, "engineInfo"));
}

}  // namespace msbind
