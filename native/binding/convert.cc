#include "convert.h"

#include <cmath>

namespace msbind {

namespace {

Napi::Value Field(const Napi::Object& obj, const char* key) {
  if (!obj.Has(key)) throw Napi::TypeError::New(obj.Env(), std::string("merge request: missing field '") + key + "'");
  return obj.Get(key);
}

double Number(const Napi::Object& obj, const char* key) {
  Napi::Value v = Field(obj, key);
  if (!v.IsNumber()) throw Napi::TypeError::New(obj.Env(), std::string("merge request: '") + key + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool Bool(const Napi::Object& obj, const char* key) {
  Napi::Value v = Field(obj, key);
  if (!v.IsBoolean()) throw Napi::TypeError::New(obj.Env(), std::string("merge request: '") + key + "' must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string String(const Napi::Object& obj, const char* key, bool nullable) {
  Napi::Value v = Field(obj, key);
  if (nullable && v.IsNull()) return "";
  if (!v.IsString()) throw Napi::TypeError::New(obj.Env(), std::string("merge request: '") + key + "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}

ms::DType StorageDtype(Napi::Env env, const std::string& s, const char* key) {
  if (s == "F32") return ms::DType::F32;
  if (s == "F16") return ms::DType::F16;
  if (s == "BF16") return ms::DType::BF16;
  throw Napi::TypeError::New(env, std::string("merge request: '") + key + "' must be F32, F16 or BF16, got " + s);
}

uint64_t Count(double v) { return v < 0 ? 0 : uint64_t(v); }

[[noreturn]] void Bad(Napi::Env env, const std::string& what) { throw Napi::TypeError::New(env, "merge request: " + what); }

// weight / density / favored / gamma / scale of a model or a plan input (`where` names it in errors).
ms::ModelParams ModelParamsFromJs(const Napi::Object& m, const std::string& where) {
  Napi::Env env = m.Env();
  ms::ModelParams p;
  auto finite = [&](const char* key) {
    const double v = Number(m, key);
    if (!std::isfinite(v)) Bad(env, where + "." + key + " must be a finite number");
    return v;
  };
  p.weight = finite("weight");
  p.density = finite("density");
  p.favored = Bool(m, "favored");
  p.gamma = finite("gamma");
  p.epsilon = finite("epsilon");
  // Optional: absent or null = no scale.
  Napi::Value scale = m.Has("scale") ? m.Get("scale") : m.Env().Null();
  if (!scale.IsNull() && !scale.IsUndefined()) {
    if (!scale.IsNumber() || !std::isfinite(scale.As<Napi::Number>().DoubleValue()))
      Bad(env, where + ".scale must be null or a finite number");
    p.has_scale = true;
    p.scale = scale.As<Napi::Number>().DoubleValue();
  }
  return p;
}

uint32_t SourceIndex(const Napi::Object& o, uint32_t n_sources, const std::string& where) {
  const double v = Number(o, "source");
  if (!(v >= 0 && v < double(n_sources) && std::floor(v) == v))
    Bad(o.Env(), where + ".source must be an integer in [0, " + std::to_string(n_sources) + ")");
  return uint32_t(v);
}

ms::PlannedInput PlannedInputFromJs(const Napi::Value& v, uint32_t n_sources, const std::string& where) {
  if (!v.IsObject() || v.IsArray()) Bad(v.Env(), where + " must be an object");
  const Napi::Object o = v.As<Napi::Object>();
  ms::PlannedInput in;
  in.source = SourceIndex(o, n_sources, where);
  in.tensor = String(o, "tensor", false);
  if (in.tensor.empty()) Bad(v.Env(), where + ".tensor must be a non-empty string");
  return in;
}

// {sources: string[], tensors: [{name, base: {source, tensor} | null, inputs: [{source, tensor, weight, ...}], lambda, t}]}
ms::EnginePlan PlanFromJs(const Napi::Value& v) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || v.IsArray()) Bad(env, "'plan' must be null or an object");
  const Napi::Object o = v.As<Napi::Object>();
  ms::EnginePlan plan;
  const Napi::Value sources = Field(o, "sources");
  if (!sources.IsArray()) Bad(env, "plan.sources must be an array of paths");
  const Napi::Array sa = sources.As<Napi::Array>();
  for (uint32_t i = 0; i < sa.Length(); ++i) {
    const Napi::Value p = sa.Get(i);
    if (!p.IsString() || p.As<Napi::String>().Utf8Value().empty()) Bad(env, "plan.sources[" + std::to_string(i) + "] must be a path");
    plan.sources.push_back(p.As<Napi::String>().Utf8Value());
  }
  if (plan.sources.empty()) Bad(env, "plan.sources must not be empty");
  const uint32_t ns = uint32_t(plan.sources.size());
  const Napi::Value tensors = Field(o, "tensors");
  if (!tensors.IsArray()) Bad(env, "plan.tensors must be an array");
  const Napi::Array ta = tensors.As<Napi::Array>();
  plan.tensors.reserve(ta.Length());
  for (uint32_t i = 0; i < ta.Length(); ++i) {
    const std::string where = "plan.tensors[" + std::to_string(i) + "]";
    const Napi::Value tv = ta.Get(i);
    if (!tv.IsObject() || tv.IsArray()) Bad(env, where + " must be an object");
    const Napi::Object to = tv.As<Napi::Object>();
    ms::PlannedTensor t;
    t.name = String(to, "name", false);
    if (t.name.empty()) Bad(env, where + ".name must be a non-empty string");
    const Napi::Value base = Field(to, "base");
    if (!base.IsNull()) {
      t.has_base = true;
      t.base = PlannedInputFromJs(base, ns, where + ".base");
    }
    const Napi::Value inputs = Field(to, "inputs");
    if (!inputs.IsArray() || inputs.As<Napi::Array>().Length() == 0) Bad(env, where + ".inputs must be a non-empty array");
    const Napi::Array ia = inputs.As<Napi::Array>();
    for (uint32_t j = 0; j < ia.Length(); ++j) {
      const std::string w = where + ".inputs[" + std::to_string(j) + "]";
      t.models.push_back(PlannedInputFromJs(ia.Get(j), ns, w));
      t.params.push_back(ModelParamsFromJs(ia.Get(j).As<Napi::Object>(), w));
    }
    t.lambda = Number(to, "lambda");
    t.t = Number(to, "t");
    if (!std::isfinite(t.lambda) || !std::isfinite(t.t)) Bad(env, where + ": lambda and t must be finite numbers");
    plan.tensors.push_back(std::move(t));
  }
  return plan;
}

Napi::Array U64Shape(Napi::Env env, const std::vector<uint64_t>& shape) {
  Napi::Array a = Napi::Array::New(env, shape.size());
  for (size_t i = 0; i < shape.size(); ++i) a.Set(uint32_t(i), double(shape[i]));
  return a;
}

// Optional per-input transforms ({lora, embedRows}, server/engine/types.ts); absent or null = none.
uint64_t Index(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("merge request: ") + what + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 9007199254740991.0 && std::floor(d) == d))
    throw Napi::TypeError::New(env, std::string("merge request: ") + what + " must be an integer >= 0");
  return uint64_t(d);
}

int32_t ModelIndex(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("merge request: ") + what + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= ms::kZeroRows && d < 1e6 && std::floor(d) == d))
    throw Napi::TypeError::New(env, std::string("merge request: ") + what + " must be a model index (-2 zeros, -1 base, 0.. models)");
  return int32_t(d);
}

ms::InputTransforms TransformsFromJs(const Napi::Object& owner, const char* key) {
  Napi::Env env = owner.Env();
  ms::InputTransforms tx;
  if (!owner.Has(key)) return tx;
  Napi::Value v = owner.Get(key);
  if (v.IsNull() || v.IsUndefined()) return tx;
  if (!v.IsObject()) throw Napi::TypeError::New(env, std::string("merge request: '") + key + "' must be an object or null");
  Napi::Object o = v.As<Napi::Object>();
  if (o.Has("lora") && o.Get("lora").IsObject()) {
    Napi::Object lo = o.Get("lora").As<Napi::Object>();
    auto lora = std::make_shared<ms::LoraAdapter>();
    lora->path = String(lo, "adapterPath", false);
    Napi::Value tv = Field(lo, "targets");
    if (!tv.IsArray()) throw Napi::TypeError::New(env, "merge request: lora.targets must be an array");
    Napi::Array ta = tv.As<Napi::Array>();
    for (uint32_t i = 0; i < ta.Length(); ++i) {
      if (!ta.Get(i).IsObject()) throw Napi::TypeError::New(env, "merge request: lora.targets[] entries must be objects");
      Napi::Object t = ta.Get(i).As<Napi::Object>();
      ms::LoraTarget target;
      target.tensor = String(t, "tensor", false);
      target.a_name = String(t, "a", false);
      target.b_name = String(t, "b", false);
      target.scale = Number(t, "scale");
      target.transpose = Bool(t, "transpose");
      lora->targets.push_back(std::move(target));
    }
    tx.lora = std::move(lora);
  }
  if (o.Has("embedRows") && o.Get("embedRows").IsObject()) {
    Napi::Object eo = o.Get("embedRows").As<Napi::Object>();
    auto map = std::make_shared<ms::EmbedRowMap>();
    map->rows = Index(env, Field(eo, "rows"), "embedRows.rows");
    Napi::Value rv = Field(eo, "runs");
    if (!rv.IsArray()) throw Napi::TypeError::New(env, "merge request: embedRows.runs must be an array");
    Napi::Array ra = rv.As<Napi::Array>();
    if (ra.Length() % 4 != 0) throw Napi::TypeError::New(env, "merge request: embedRows.runs holds [outRow, count, src, srcRow] quadruples");
    for (uint32_t i = 0; i < ra.Length(); i += 4) {
      ms::RowRun run;
      run.out_row = Index(env, ra.Get(i), "embedRows.runs outRow");
      run.count = Index(env, ra.Get(i + 1), "embedRows.runs count");
      run.src = ModelIndex(env, ra.Get(i + 2), "embedRows.runs src");
      run.src_row = Index(env, ra.Get(i + 3), "embedRows.runs srcRow");
      map->runs.push_back(run);
    }
    Napi::Value av = Field(eo, "averages");
    if (!av.IsArray()) throw Napi::TypeError::New(env, "merge request: embedRows.averages must be an array");
    Napi::Array aa = av.As<Napi::Array>();
    for (uint32_t i = 0; i < aa.Length(); ++i) {
      if (!aa.Get(i).IsObject()) throw Napi::TypeError::New(env, "merge request: embedRows.averages[] entries must be objects");
      Napi::Object a = aa.Get(i).As<Napi::Object>();
      ms::RowAverage avg;
      avg.out_row = Index(env, Field(a, "row"), "embedRows.averages row");
      Napi::Value sv = Field(a, "sources");
      if (!sv.IsArray() || sv.As<Napi::Array>().Length() % 2 != 0)
        throw Napi::TypeError::New(env, "merge request: embedRows.averages[].sources holds [src, row] pairs");
      Napi::Array sa = sv.As<Napi::Array>();
      for (uint32_t j = 0; j < sa.Length(); j += 2)
        avg.sources.emplace_back(ModelIndex(env, sa.Get(j), "embedRows.averages src"), Index(env, sa.Get(j + 1), "embedRows.averages row"));
      map->averages.push_back(std::move(avg));
    }
    Napi::Value pv = Field(eo, "padFrom");
    if (!pv.IsNull()) map->pad_from = Index(env, pv, "embedRows.padFrom");
    tx.embed_rows = std::move(map);
  }
  return tx;
}

}  // namespace

ms::PathPolicy PolicyFromJs(Napi::Env env, const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return {};
  if (!v.IsArray()) throw Napi::TypeError::New(env, "'allowedRoots' must be null or an array of folder paths");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> roots;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value r = a.Get(i);
    if (!r.IsString()) throw Napi::TypeError::New(env, "'allowedRoots' entries must be strings");
    roots.push_back(r.As<Napi::String>().Utf8Value());
  }
  return ms::make_path_policy(roots);
}

ms::EngineRequest RequestFromJs(const Napi::Object& obj) {
  Napi::Env env = obj.Env();
  ms::EngineRequest r;
  const std::string method = String(obj, "method", false);
  if (!ms::method_from_name(method, &r.params.method)) throw Napi::TypeError::New(env, "merge request: unknown method " + method);
  const std::string consensus = String(obj, "consensus", false);
  if (consensus != "sum" && consensus != "count")
    throw Napi::TypeError::New(env, "merge request: 'consensus' must be sum or count, got " + consensus);
  r.params.consensus = consensus == "count" ? ms::Consensus::Count : ms::Consensus::Sum;
  r.params.normalize = Bool(obj, "normalize");
  r.params.lambda = Number(obj, "lambda");
  r.params.slack = Number(obj, "slack");
  const std::string scope = String(obj, "slackScope", false);
  if (scope != "model" && scope != "tensor")
    throw Napi::TypeError::New(env, "merge request: 'slackScope' must be model or tensor, got " + scope);
  r.params.slack_scope = scope == "tensor" ? ms::SlackScope::Tensor : ms::SlackScope::Model;
  r.params.rescale = Bool(obj, "rescale");
  const double seed = Number(obj, "seed");
  if (!(seed >= 0 && seed <= 9007199254740991.0 && std::floor(seed) == seed))
    throw Napi::TypeError::New(env, "merge request: 'seed' must be an integer in [0, 2^53)");
  r.params.seed = uint64_t(seed);
  const std::string random = String(obj, "randomStream", false);
  if (random != "counter" && random != "mergekit")
    throw Napi::TypeError::New(env, "merge request: 'randomStream' must be counter or mergekit, got " + random);
  r.params.random = random == "mergekit" ? ms::RandomStream::Mergekit : ms::RandomStream::Counter;
  const std::string ties = String(obj, "tieOrder", false);
  if (ties != "mergekit" && ties != "index")
    throw Napi::TypeError::New(env, "merge request: 'tieOrder' must be mergekit or index, got " + ties);
  r.params.tie_order = ties == "index" ? ms::TieOrder::Index : ms::TieOrder::Mergekit;
  r.params.keep_if_no_outliers = Bool(obj, "keepIfNoOutliers");
  r.params.t = Number(obj, "t");
  r.params.filter_wise = Bool(obj, "filterWise");
  // sce, nuslerp, multislerp, karcher
  r.params.select_topk = Number(obj, "selectTopk");
  r.params.nuslerp_flatten = Bool(obj, "nuslerpFlatten");
  r.params.nuslerp_row_wise = Bool(obj, "nuslerpRowWise");
  r.params.normalize_weights = Bool(obj, "normalizeWeights");
  r.params.eps = Number(obj, "eps");
  const double max_iter = Number(obj, "maxIter");
  if (!(max_iter >= 0 && max_iter <= 100000 && std::floor(max_iter) == max_iter))
    throw Napi::TypeError::New(env, "merge request: 'maxIter' must be an integer in [0, 100000]");
  r.params.max_iter = uint32_t(max_iter);
  r.params.tol = Number(obj, "tol");
  Napi::Value densities = Field(obj, "densities");
  if (!densities.IsNull()) {
    if (!densities.IsArray()) throw Napi::TypeError::New(env, "merge request: 'densities' must be null or an array");
    Napi::Array da = densities.As<Napi::Array>();
    for (uint32_t i = 0; i < da.Length(); ++i) {
      Napi::Value v = da.Get(i);
      if (!v.IsNumber()) throw Napi::TypeError::New(env, "merge request: 'densities' entries must be numbers");
      r.densities.push_back(v.As<Napi::Number>().DoubleValue());
    }
    r.sweep = true;
  }
  // Series pass (optional field): models[0] the SFT, models[1..] the CT checkpoints, `densities` the grid.
  if (obj.Has("series") && !obj.Get("series").IsUndefined()) {
    r.series = Bool(obj, "series");
    if (r.series) {
      if (!r.sweep) throw Napi::TypeError::New(env, "merge request: 'series' needs 'densities'");
      r.sweep = false;
    }
  }
  const std::string compute = String(obj, "computeDtype", false);
  if (compute == "storage") r.compute = ms::ComputeMode::Storage;
  else {
    const ms::DType d = StorageDtype(env, compute, "computeDtype");
    r.compute = d == ms::DType::F32 ? ms::ComputeMode::F32 : d == ms::DType::F16 ? ms::ComputeMode::F16 : ms::ComputeMode::BF16;
  }
  Napi::Value out_dtype = Field(obj, "outDtype");
  if (!out_dtype.IsNull()) {
    if (!out_dtype.IsString()) throw Napi::TypeError::New(env, "merge request: 'outDtype' must be null or a string");
    r.has_out_dtype = true;
    r.out_dtype = StorageDtype(env, out_dtype.As<Napi::String>().Utf8Value(), "outDtype");
  }
  r.base_path = String(obj, "basePath", true);
  r.base_transforms = TransformsFromJs(obj, "baseTransforms");
  r.out_dir = String(obj, "outDir", true);
  r.shard_size = Count(Number(obj, "shardSizeBytes"));
  r.threads = unsigned(Count(Number(obj, "threads")));
  r.paths = PolicyFromJs(env, obj.Get("allowedRoots"));
  Napi::Value models = Field(obj, "models");
  if (!models.IsArray()) throw Napi::TypeError::New(env, "merge request: 'models' must be an array");
  Napi::Array arr = models.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value mv = arr.Get(i);
    if (!mv.IsObject()) throw Napi::TypeError::New(env, "merge request: models[] entries must be objects");
    Napi::Object m = mv.As<Napi::Object>();
    ms::EngineModel em;
    em.path = String(m, "path", false);
    em.params = ModelParamsFromJs(m, "models[" + std::to_string(i) + "]");
    em.transforms = TransformsFromJs(m, "transforms");
    r.models.push_back(std::move(em));
  }
  const Napi::Value plan = obj.Has("plan") ? obj.Get("plan") : env.Null();  // optional
  if (!plan.IsNull() && !plan.IsUndefined()) {
    r.plan = PlanFromJs(plan);
    r.has_plan = true;
  }
  return r;
}

static Napi::Value NullableThreshold(Napi::Env env, const ms::ModelTensorStats& m) {
  return m.threshold_valid ? Napi::Number::New(env, m.threshold) : env.Null();
}

static Napi::Value NullableFloat(Napi::Env env, bool valid, double v) {
  return valid ? Napi::Value(Napi::Number::New(env, v)) : env.Null();
}

// Task-vector geometry (merge_kernels.h): per input the sum of squares; the pair values of
// inputs 0 and 1 (null with one input; the mask overlap null without a magnitude top-k trim).
// null when the method's kernel computes none.
static Napi::Value GeometryToJs(Napi::Env env, const ms::TensorStats& s) {
  if (!s.has_geometry) return env.Null();
  Napi::Object g = Napi::Object::New(env);
  Napi::Array sq = Napi::Array::New(env, s.models.size());
  for (size_t i = 0; i < s.models.size(); ++i) sq.Set(uint32_t(i), s.models[i].tv_sum_sq);
  g.Set("sumSq", sq);
  g.Set("dot", NullableFloat(env, s.has_pair, s.tv_dot));
  g.Set("bothNonzero", NullableFloat(env, s.has_pair, double(s.n_both_nonzero)));
  g.Set("signsAgree", NullableFloat(env, s.has_pair, double(s.n_signs_agree)));
  g.Set("maskIntersection", NullableFloat(env, s.has_mask_overlap, double(s.mask_intersection)));
  g.Set("maskUnion", NullableFloat(env, s.has_mask_overlap, double(s.mask_union)));
  return g;
}

static Napi::Array TensorsToJs(Napi::Env env, const std::vector<ms::EngineTensorReport>& reports) {
  Napi::Array tensors = Napi::Array::New(env, reports.size());
  for (size_t i = 0; i < reports.size(); ++i) {
    const ms::EngineTensorReport& t = reports[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", t.name);
    o.Set("shape", U64Shape(env, t.shape));
    o.Set("dtype", ms::dtype_name(t.out_dtype));
    o.Set("numel", double(t.stats.numel));
    o.Set("rowCut", t.row_cut);
    o.Set("signConflicts", double(t.stats.sign_conflicts));
    o.Set("noContributor", double(t.stats.n_positions_no_contributor));
    o.Set("majorityNegative", double(t.stats.n_majority_negative));
    o.Set("svCandidates", double(t.stats.sv_candidates));
    o.Set("svReserved", double(t.stats.sv_reserved));
    o.Set("interpolationT", NullableFloat(env, t.stats.has_interpolation_t, t.stats.interpolation_t));
    o.Set("selected", NullableFloat(env, t.stats.has_selected, double(t.stats.n_selected)));
    o.Set("fallbackVectors", double(t.stats.n_fallback));
    o.Set("iterations", double(t.stats.iterations));
    o.Set("geometry", GeometryToJs(env, t.stats));
    Napi::Array models = Napi::Array::New(env, t.stats.models.size());
    for (size_t j = 0; j < t.stats.models.size(); ++j) {
      const ms::ModelTensorStats& m = t.stats.models[j];
      Napi::Object mo = Napi::Object::New(env);
      mo.Set("weight", m.weight);
      mo.Set("density", m.density);
      mo.Set("trimmed", m.trimmed);
      mo.Set("k", double(m.k));
      mo.Set("threshold", NullableThreshold(env, m));
      mo.Set("nGreaterThanThreshold", double(m.n_greater_than_threshold));
      mo.Set("nEqualToThreshold", double(m.n_equal_to_threshold));
      mo.Set("nKeptAtThreshold", double(m.n_kept_at_threshold));
      mo.Set("nnzTrimmed", double(m.nnz_trimmed));
      mo.Set("discarded", double(m.n_discarded_by_sign_election));
      mo.Set("discardedL1", m.l1_discarded_by_sign_election);
      mo.Set("rescued", double(m.rescued));
      mo.Set("contributing", double(m.n_contributing));
      mo.Set("inConflict", double(m.in_conflict));
      mo.Set("conflictsWon", double(m.conflicts_won));
      mo.Set("nTopRemoved", double(m.n_top_removed));
      mo.Set("topThreshold", NullableFloat(env, m.top_threshold_valid, m.top_threshold));
      mo.Set("rescaleFactor", NullableFloat(env, m.rescaled, m.rescale_factor));
      mo.Set("randomFirstDraw", NullableFloat(env, m.has_random_draws, double(m.random_first_draw)));
      mo.Set("randomDraws", double(m.random_draws));
      mo.Set("keepProbabilityMin", NullableFloat(env, m.has_random_draws, m.keep_probability_min));
      mo.Set("keepProbabilityMax", NullableFloat(env, m.has_random_draws, m.keep_probability_max));
      models.Set(uint32_t(j), mo);
    }
    o.Set("models", models);
    tensors.Set(uint32_t(i), o);
  }
  return tensors;
}

// ties_sv: the whole model's lost-election margin histogram (merge_engine.h EngineMargins) with
// the bins' edges, so the TypeScript side never restates them; null for other methods.
static Napi::Value MarginsToJs(Napi::Env env, const ms::EngineResult& r) {
  if (!r.has_margins) return env.Null();
  const ms::EngineMargins& mg = r.margins;
  auto array = [&](const std::vector<uint64_t>& v) {
    Napi::Array a = Napi::Array::New(env, v.size());
    for (size_t b = 0; b < v.size(); ++b) a.Set(uint32_t(b), double(v[b]));
    return a;
  };
  Napi::Object o = Napi::Object::New(env);
  Napi::Array edges = Napi::Array::New(env, ms::kMarginEdges);
  for (uint32_t e = 0; e < ms::kMarginEdges; ++e) edges.Set(e, double(ms::margin_edge(e)));
  o.Set("edges", edges);
  o.Set("candidates", array(mg.candidates));
  o.Set("reserved", array(mg.reserved));
  o.Set("cut", mg.has_cut ? Napi::Value(Napi::Number::New(env, double(ms::f32_from_bits(mg.cut_key)))) : env.Null());
  o.Set("atCut", NullableFloat(env, mg.has_cut, double(mg.at_cut)));
  o.Set("takenAtCut", NullableFloat(env, mg.has_cut, double(mg.taken_at_cut)));
  return o;
}

Napi::Object ResultToJs(Napi::Env env, const ms::EngineResult& r) {
  Napi::Object out = Napi::Object::New(env);
  Napi::Array tensors = TensorsToJs(env, r.tensors);
  out.Set("tensors", tensors);
  Napi::Array shards = Napi::Array::New(env, r.shards.size());
  for (size_t i = 0; i < r.shards.size(); ++i) {
    Napi::Object s = Napi::Object::New(env);
    s.Set("filename", r.shards[i].filename);
    s.Set("bytes", double(r.shards[i].bytes));
    s.Set("sha256", r.shards[i].sha256);
    shards.Set(uint32_t(i), s);
  }
  out.Set("shards", shards);
  out.Set("indexFile", r.has_index ? Napi::Value(Napi::String::New(env, "model.safetensors.index.json")) : env.Null());
  Napi::Array warnings = Napi::Array::New(env, r.warnings.size());
  for (size_t i = 0; i < r.warnings.size(); ++i) warnings.Set(uint32_t(i), r.warnings[i]);
  out.Set("warnings", warnings);
  out.Set("bytesRead", double(r.bytes_read));
  out.Set("bytesWritten", double(r.bytes_written));
  out.Set("seconds", r.seconds);
  out.Set("slackBudget", r.has_slack_budget ? Napi::Value(Napi::Number::New(env, double(r.slack_budget))) : env.Null());
  out.Set("margins", MarginsToJs(env, r));
  if (r.has_sweep) {
    Napi::Array sweep = Napi::Array::New(env, r.sweep.size());
    for (size_t i = 0; i < r.sweep.size(); ++i) {
      Napi::Object pt = Napi::Object::New(env);
      Napi::Array d = Napi::Array::New(env, r.sweep[i].densities.size());
      for (size_t j = 0; j < r.sweep[i].densities.size(); ++j) d.Set(uint32_t(j), r.sweep[i].densities[j]);
      pt.Set("densities", d);
      pt.Set("tensors", TensorsToJs(env, r.sweep[i].tensors));
      sweep.Set(uint32_t(i), pt);
    }
    out.Set("sweep", sweep);
  } else {
    out.Set("sweep", env.Null());
  }
  if (r.has_series) {
    Napi::Array series = Napi::Array::New(env, r.series.size());
    for (size_t c = 0; c < r.series.size(); ++c) {
      Napi::Array points = Napi::Array::New(env, r.series[c].sweep.size());
      for (size_t i = 0; i < r.series[c].sweep.size(); ++i) {
        const ms::EngineSweepPoint& p = r.series[c].sweep[i];
        Napi::Object pt = Napi::Object::New(env);
        Napi::Array d = Napi::Array::New(env, p.densities.size());
        for (size_t j = 0; j < p.densities.size(); ++j) d.Set(uint32_t(j), p.densities[j]);
        pt.Set("densities", d);
        pt.Set("tensors", TensorsToJs(env, p.tensors));
        points.Set(uint32_t(i), pt);
      }
      Napi::Array warnings = Napi::Array::New(env, r.series[c].warnings.size());
      for (size_t i = 0; i < r.series[c].warnings.size(); ++i) warnings.Set(uint32_t(i), r.series[c].warnings[i]);
      Napi::Object ck = Napi::Object::New(env);
      ck.Set("sweep", points);
      ck.Set("warnings", warnings);
      series.Set(uint32_t(c), ck);
    }
    out.Set("series", series);
  }
  return out;
}

Napi::Object ProgressToJs(Napi::Env env, const ms::EngineProgress& p) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("phase", p.phase);
  o.Set("tensorsDone", double(p.tensors_done));
  o.Set("tensorsTotal", double(p.tensors_total));
  o.Set("bytesDone", double(p.bytes_done));
  o.Set("bytesTotal", double(p.bytes_total));
  o.Set("tensor", p.tensor);
  return o;
}

Napi::Error EngineErrorToJs(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", code);
  err.Set("engine", true);
  return err;
}

}  // namespace msbind
