// startMerge(request, onProgress?) -> { promise, cancel() } and inspectModel(path, allowedRoots?).
// The merge runs on a libuv worker thread (which then fans out to the engine's
// own thread pool); that thread never touches N-API. Progress is queued back
// to the JS thread; cancel() flips an atomic the kernels poll between chunks.
#include <napi.h>

#include <atomic>
#include <memory>

#include "binding.h"
#include "convert.h"
#include "errors.h"
#include "merge_engine.h"
#include "model_source.h"

namespace msbind {

namespace {

class MergeWorker : public Napi::AsyncProgressQueueWorker<ms::EngineProgress> {
 public:
  MergeWorker(Napi::Env env, ms::EngineRequest req, Napi::Function on_progress,
              std::shared_ptr<std::atomic<bool>> cancel)
      : Napi::AsyncProgressQueueWorker<ms::EngineProgress>(env),
        req_(std::move(req)),
        cancel_(std::move(cancel)),
        deferred_(Napi::Promise::Deferred::New(env)) {
    if (!on_progress.IsEmpty()) on_progress_ = Napi::Persistent(on_progress);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    try {
      result_ = ms::run_engine(
          req_, [&progress](const ms::EngineProgress& p) { progress.Send(&p, 1); }, cancel_.get());
    } catch (const ms::MergeError& e) {
      code_ = e.code_name();
      SetError(e.what());
    } catch (const std::bad_alloc&) {
      code_ = "OUT_OF_MEMORY";
      SetError("out of memory while merging: use fewer threads or a machine with more RAM");
    } catch (const std::exception& e) {
      code_ = "INTERNAL";
      SetError(e.what());
    }
  }

  void OnProgress(const ms::EngineProgress* data, size_t count) override {
    if (on_progress_.IsEmpty() || count == 0) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    // Only the latest update matters when several queued up.
    on_progress_.Call({ProgressToJs(env, data[count - 1])});
  }

  void OnOK() override {
    Napi::HandleScope scope(Env());
    deferred_.Resolve(ResultToJs(Env(), result_));
  }

  void OnError(const Napi::Error& e) override {
    Napi::HandleScope scope(Env());
    deferred_.Reject(EngineErrorToJs(Env(), code_, e.Message()).Value());
  }

 private:
  ms::EngineRequest req_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  Napi::Promise::Deferred deferred_;
  Napi::FunctionReference on_progress_;
  ms::EngineResult result_;
  std::string code_ = "INTERNAL";
};

Napi::Value StartMerge(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject())
    throw Napi::TypeError::New(env, "startMerge: expected a request object as the first argument");
  Napi::Function on_progress;
  if (info.Length() > 1 && info[1].IsFunction()) on_progress = info[1].As<Napi::Function>();
  ms::EngineRequest req = RequestFromJs(info[0].As<Napi::Object>());
  auto cancel = std::make_shared<std::atomic<bool>>(false);
  auto* worker = new MergeWorker(env, std::move(req), on_progress, cancel);
  Napi::Object handle = Napi::Object::New(env);
  handle.Set("promise", worker->Promise());
  handle.Set("cancel", Napi::Function::New(env, [cancel](const Napi::CallbackInfo&) { cancel->store(true); }, "cancel"));
  worker->Queue();
  return handle;
}

Napi::Value InspectModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "inspectModel: expected a path string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  const ms::PathPolicy policy = PolicyFromJs(env, info.Length() > 1 ? info[1] : env.Undefined());
  try {
    const ms::ModelSource src = ms::ModelSource::open(path, &policy);
    Napi::Object out = Napi::Object::New(env);
    out.Set("path", src.path());
    Napi::Array shards = Napi::Array::New(env, src.shard_paths().size());
    for (size_t i = 0; i < src.shard_paths().size(); ++i) shards.Set(uint32_t(i), src.shard_paths()[i]);
    out.Set("shards", shards);
    out.Set("parameterCount", double(src.parameter_count()));
    out.Set("totalBytes", double(src.total_bytes()));
    Napi::Array tensors = Napi::Array::New(env, src.tensors().size());
    for (size_t i = 0; i < src.tensors().size(); ++i) {
      const ms::ModelTensor& t = src.tensors()[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", t.name);
      o.Set("dtype", ms::st_dtype_name(t.info.dtype));
      Napi::Array shape = Napi::Array::New(env, t.info.shape.size());
      for (size_t d = 0; d < t.info.shape.size(); ++d) shape.Set(uint32_t(d), double(t.info.shape[d]));
      o.Set("shape", shape);
      tensors.Set(uint32_t(i), o);
    }
    out.Set("tensors", tensors);
    return out;
  } catch (const ms::MergeError& e) {
    throw EngineErrorToJs(env, e.code_name(), e.what());
  }
}

}  // namespace

void RegisterMerge(Napi::Env env, Napi::Object exports) {
  exports.Set("startMerge", Napi::Function::New(env, StartMerge, "startMerge"));
  exports.Set("inspectModel", Napi::Function::New(env, InspectModel, "inspectModel"));
}

}  // namespace msbind
