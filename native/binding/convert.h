// JS <-> plain C++ struct conversion for the merge binding. The TypeScript
// wrapper has already validated the shapes; these checks only guard against
// misuse of the raw addon and throw TypeError naming the field.
#pragma once
#include <napi.h>

#include "merge_engine.h"

namespace msbind {

ms::EngineRequest RequestFromJs(const Napi::Object& obj);
// null/undefined = no restriction; an array of folders = the engine opens only files inside them.
ms::PathPolicy PolicyFromJs(Napi::Env env, const Napi::Value& v);
Napi::Object ResultToJs(Napi::Env env, const ms::EngineResult& r);
Napi::Object ProgressToJs(Napi::Env env, const ms::EngineProgress& p);
// JS Error with `.code` = the engine's stable error code name.
Napi::Error EngineErrorToJs(Napi::Env env, const std::string& code, const std::string& message);

}  // namespace msbind
