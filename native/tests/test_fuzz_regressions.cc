// Fuzzing regressions (see native/fuzz/ and scripts/fuzz.mjs):
//  * every file of the fuzz corpora (native/fuzz/corpus/<target>/) is replayed
//    through the same oracles as the libFuzzer harnesses (native/fuzz/
//    fuzz_checks.h), so the corpus is a permanent regression suite under the
//    plain and the ASan/UBSan builds;
//  * every file under tests/fuzz-regressions/<target>/ is named
//    <EXPECTED>--<what>, EXPECTED being the MergeError code (safetensors_header,
//    index_json), the json::ErrorKind name (json) or OK, and must give exactly
//    that outcome;
//  * the problems found while fuzzing (memory blow-ups and a quadratic-time
//    input, which need inputs too large to commit) are rebuilt in code below.
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include "../fuzz/fuzz_checks.h"
#include "errors.h"
#include "json.h"
#include "model_source.h"
#include "safetensors.h"
#include "test_main.h"

// ---------------------------------------------------------------- heap accounting
// Global operator new/delete of this test binary count live heap bytes, the
// peak, and the largest single request, so memory regressions are checked on
// allocations (deterministic) rather than on RSS (noisy, sanitizer-inflated).
namespace {
std::atomic<uint64_t> g_live{0}, g_peak{0}, g_max_request{0};
void note_alloc(void* p, size_t n) {
  const uint64_t now = g_live.fetch_add(malloc_usable_size(p)) + malloc_usable_size(p);
  uint64_t pk = g_peak.load();
  while (now > pk && !g_peak.compare_exchange_weak(pk, now)) {}
  uint64_t mr = g_max_request.load();
  while (n > mr && !g_max_request.compare_exchange_weak(mr, n)) {}
}
void* counted_alloc(size_t n) {
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  note_alloc(p, n);
  return p;
}
void counted_free(void* p) noexcept {
  if (!p) return;
  g_live.fetch_sub(malloc_usable_size(p));
  std::free(p);
}
// Resets the peak and max request; returns the live bytes now.
uint64_t heap_mark() {
  g_peak = g_live.load();
  g_max_request = 0;
  return g_live.load();
}
double cpu_seconds() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec) + double(u.ru_utime.tv_usec) / 1e6 + double(u.ru_stime.tv_sec) +
         double(u.ru_stime.tv_usec) / 1e6;
}
}  // namespace

// Every non-aligned form (the aligned ones keep the runtime's own pair).
void* operator new(size_t n) { return counted_alloc(n); }
void* operator new[](size_t n) { return counted_alloc(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try { return counted_alloc(n); } catch (...) { return nullptr; }
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  try { return counted_alloc(n); } catch (...) { return nullptr; }
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, size_t) noexcept { counted_free(p); }
void operator delete[](void* p, size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }

namespace {

namespace fs = std::filesystem;
using ms::ErrorCode;

const char* const kTargets[] = {"safetensors_header", "index_json", "json"};

msfuzz::Outcome run_target(const std::string& target, const std::string& bytes) {
  const auto* d = reinterpret_cast<const uint8_t*>(bytes.data());
  if (target == "safetensors_header") return msfuzz::check_safetensors(d, bytes.size());
  if (target == "index_json") return msfuzz::check_index_json(d, bytes.size());
  return msfuzz::check_json(d, bytes.size());
}

std::string outcome_name(const std::string& target, const msfuzz::Outcome& o) {
  if (o.ok) return "OK";
  if (target == "json") return msfuzz::detail::err_kind_name(o.kind);
  return ms::error_code_name(o.code);
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = char(uint8_t(n >> (8 * i)));
  return s;
}

ms::SafetensorsHeader parse_st(const std::string& header) {
  const std::string img = le64(header.size()) + header;
  return ms::parse_safetensors_header(reinterpret_cast<const uint8_t*>(img.data()), img.size(), img.size(), "x.st");
}

// Distinct short keys of printable ASCII without '"' and '\\'.
std::string short_key(uint64_t i) {
  std::string k;
  do {
    char c = char(0x23 + i % 90);
    if (c == '\\') c = '~';
    k += c;
    i /= 90;
  } while (i);
  return k;
}

}  // namespace

// ================================================================ corpus replay

TEST(fuzz_corpus_replays_clean) {
  int files = 0;
  for (const char* t : kTargets) {
    const fs::path dir = fs::path("../fuzz/corpus") / t;
    const auto list = files_in(dir);
    CHECK(!list.empty());  // the corpus ships with the repository
    for (const auto& p : list) {
      const msfuzz::Outcome o = run_target(t, read_file(p));
      if (!o.bug.empty()) std::fprintf(stderr, "  %s: %s\n", p.c_str(), o.bug.c_str());
      CHECK(o.bug.empty());
      ++files;
    }
  }
  CHECK(files > 100);
}

TEST(fuzz_corpus_covers_accept_and_every_safetensors_code) {
  // The seeds reach the success path of each parser and every ST_* code the
  // pure header parser can produce (ST_IO needs a real file).
  std::vector<std::string> seen;
  for (const char* t : kTargets)
    for (const auto& p : files_in(fs::path("../fuzz/corpus") / t))
      seen.push_back(std::string(t) + ":" + outcome_name(t, run_target(t, read_file(p))));
  auto has = [&](const std::string& s) { return std::find(seen.begin(), seen.end(), s) != seen.end(); };
  for (const char* code :
       {"OK", "ST_FILE_TOO_SMALL", "ST_HEADER_TOO_LARGE", "ST_HEADER_LENGTH_INVALID", "ST_HEADER_NOT_UTF8",
        "ST_HEADER_START_INVALID", "ST_HEADER_JSON_INVALID", "ST_HEADER_DUPLICATE_KEY", "ST_TENSOR_INFO_INVALID",
        "ST_DTYPE_UNKNOWN", "ST_SHAPE_OVERFLOW", "ST_TENSOR_SIZE_MISMATCH", "ST_OFFSETS_INVALID", "ST_DATA_TRUNCATED",
        "ST_TRAILING_BYTES", "ST_METADATA_INVALID", "ST_PICKLE_FORMAT", "ST_ZIP_FORMAT"}) {
    if (!has(std::string("safetensors_header:") + code)) std::fprintf(stderr, "  no seed gives %s\n", code);
    CHECK(has(std::string("safetensors_header:") + code));
  }
  for (const char* code : {"OK", "IDX_JSON_INVALID", "IDX_WEIGHT_MAP_INVALID", "IDX_SHARD_PATH_INVALID"})
    CHECK(has(std::string("index_json:") + code));
  for (const char* kind : {"OK", "Syntax", "Utf8", "Escape", "Depth", "DuplicateKey"}) CHECK(has(std::string("json:") + kind));
}

TEST(fuzz_regression_files_give_their_expected_outcome) {
  int files = 0;
  for (const char* t : kTargets) {
    for (const auto& p : files_in(fs::path("fuzz-regressions") / t)) {
      const std::string name = p.filename().string();
      const size_t sep = name.find("--");
      CHECK(sep != std::string::npos);
      if (sep == std::string::npos) continue;
      const std::string expected = name.substr(0, sep);
      const msfuzz::Outcome o = run_target(t, read_file(p));
      if (!o.bug.empty()) std::fprintf(stderr, "  %s: %s\n", p.c_str(), o.bug.c_str());
      CHECK(o.bug.empty());
      const std::string got = outcome_name(t, o);
      if (got != expected) std::fprintf(stderr, "  %s: expected %s, got %s\n", p.c_str(), expected.c_str(), got.c_str());
      CHECK(got == expected);
      ++files;
    }
  }
  CHECK(files > 0);
}

// ================================================================ memory: JSON tape

TEST(json_value_budget_is_exact_and_reported) {
  // {"a":[1,2]} holds 5 tape nodes: object, key, array, 1, 2.
  ms::json::ParseOptions o;
  o.max_values = 5;
  CHECK(ms::json::parse("{\"a\":[1,2]}", 11, o).ok);
  o.max_values = 4;
  auto r = ms::json::parse("{\"a\":[1,2]}", 11, o);
  CHECK(!r.ok && r.kind == ms::json::ErrorKind::TooLarge && r.offset == 8);  // at the value that did not fit
  CHECK(r.message.find("more than 4 values") != std::string::npos);
  o.max_values = 0;
  r = ms::json::parse("1", 1, o);
  CHECK(!r.ok && r.kind == ms::json::ErrorKind::TooLarge && r.offset == 0);
  // The default budget.
  CHECK_EQ(ms::json::ParseOptions().max_values, uint64_t(1) << 24);
  // The 8-byte tape has 32-bit offsets: inputs of 4 GiB and more are refused
  // before a byte is read (so a dummy buffer is fine here).
  r = ms::json::parse("{}", uint64_t(1) << 32);
  CHECK(!r.ok && r.kind == ms::json::ErrorKind::TooLarge && r.offset == 0 && r.message.find("4 GiB") != std::string::npos);
}

TEST(hostile_dense_header_is_rejected_within_bounded_memory) {
  // Regression: a header like {"a":[1,1,1,...]} used to cost 16 bytes of tape
  // per value plus vector growth, ~1 GB for 100 MB (libFuzzer: out-of-memory
  // (malloc(536870912)) under -rss_limit_mb=512). Now: 8-byte nodes and a
  // 2^24-value budget. 17M values here (~34 MB), just past the budget.
  const uint64_t values = (uint64_t(1) << 24) + 1000;
  std::string h;
  h.reserve(2 * values + 16);
  h = "{\"a\":[1";
  for (uint64_t i = 2; i < values; ++i) h += ",1";
  h += "]}";
  const uint64_t base = heap_mark();
  bool thrown = false;
  try {
    parse_st(h);
  } catch (const ms::MergeError& e) {
    thrown = true;
    CHECK(e.code() == ErrorCode::ST_HEADER_JSON_INVALID);
    CHECK(std::string(e.what()).find("more than 16777216 values") != std::string::npos);
  }
  CHECK(thrown);
  // Input copy (34 MB) + tape at most 2^24 * 8 B (+ its last doubling) +
  // arena: well below the old ~800 MB. Bound: 320 MB over what was live.
  const uint64_t peak = g_peak.load() - base;
  if (peak > (uint64_t(320) << 20)) std::fprintf(stderr, "  peak heap %llu MB\n", (unsigned long long)(peak >> 20));
  CHECK(peak <= (uint64_t(320) << 20));
}

TEST(many_tiny_members_do_not_reserve_per_member) {
  // Regression (fuzz_safetensors_header with -rss_limit_mb=512 on a 60 MB
  // {"a":0,"b":0,...} header: "out-of-memory (malloc(647863392))"): the
  // safetensors parser reserved ~96 bytes per top-level member before
  // validating any. 1M members (~6.7 MB) here.
  std::string h = "{";
  for (uint64_t i = 0; i < 1000000; ++i) {
    if (i) h += ',';
    h += '"' + short_key(i) + "\":0";
  }
  h += '}';
  heap_mark();
  bool thrown = false;
  try {
    parse_st(h);
  } catch (const ms::MergeError& e) {
    thrown = true;
    CHECK(e.code() == ErrorCode::ST_TENSOR_INFO_INVALID);
  }
  CHECK(thrown);
  // Largest single request: the tape (2M nodes -> 2^21 * 8 B = 16 MB), not
  // the old 96 MB reserve (nor the old 32 MB 16-byte-node tape).
  const uint64_t mr = g_max_request.load();
  if (mr > (uint64_t(24) << 20)) std::fprintf(stderr, "  largest allocation %llu bytes\n", (unsigned long long)mr);
  CHECK(mr <= (uint64_t(24) << 20));
}

// ================================================================ time: duplicate-key check

TEST(sibling_objects_after_a_big_object_stay_linear) {
  // Regression: the per-depth std::unordered_set of keys was clear()ed for
  // every object, and clear() walks all buckets: one big object followed by
  // many small siblings at the same depth was quadratic. This 3 MB header
  // (100k metadata keys, then ~150k "k":{} entries) took ~11 s of CPU (a
  // 100 MB one: hours); now a few milliseconds.
  std::string h = "{\"__metadata__\":{";
  for (uint64_t i = 0; i < 100000; ++i) h += (i ? ",\"" : "\"") + short_key(i) + "\":\"\"";
  h += '}';
  for (uint64_t i = 0; h.size() < 3000000; ++i) h += ",\"" + short_key(i) + "\":{}";
  h += '}';
  const double t0 = cpu_seconds();
  bool thrown = false;
  try {
    parse_st(h);
  } catch (const ms::MergeError& e) {
    thrown = true;
    CHECK(e.code() == ErrorCode::ST_TENSOR_INFO_INVALID);  // "k":{} lacks dtype
  }
  CHECK(thrown);
  const double cpu = cpu_seconds() - t0;
  if (cpu > 2.0) std::fprintf(stderr, "  %.2f s of CPU\n", cpu);
  CHECK(cpu < 2.0);
}

TEST(big_objects_find_duplicates_linearly) {
  // 300k distinct keys then a repeat of the first: found, in linear time.
  std::string j = "{";
  for (uint64_t i = 0; i < 300000; ++i) j += (i ? ",\"" : "\"") + short_key(i) + "\":0";
  const double t0 = cpu_seconds();
  auto ok = ms::json::parse((j + "}").data(), j.size() + 1);
  CHECK(ok.ok && ok.doc.root().size() == 300000);
  const std::string dup = j + ",\"" + short_key(0) + "\":1}";
  auto r = ms::json::parse(dup.data(), dup.size());
  CHECK(!r.ok && r.kind == ms::json::ErrorKind::DuplicateKey && r.offset == j.size() + 1);
  CHECK(cpu_seconds() - t0 < 2.0);
}

// ================================================================ error order (first problem in the input wins)

TEST(json_duplicate_key_wins_over_later_errors) {
  struct Case { std::string text; ms::json::ErrorKind kind; uint64_t offset; };
  std::string big = "{";
  for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  const std::vector<Case> cases = {
      {R"({"a":1,"a":2,)", ms::json::ErrorKind::DuplicateKey, 7},           // then EOF
      {R"({"a":1,"a":2 x})", ms::json::ErrorKind::DuplicateKey, 7},         // then junk
      {R"({"a":1,"a":[[[[)", ms::json::ErrorKind::DuplicateKey, 7},         // then EOF deeper
      {R"({"a":1,"a":{"b":1,"b":2}})", ms::json::ErrorKind::DuplicateKey, 7},  // outer repeat first
      {R"({"a":{"b":1,"b":2},"a":1})", ms::json::ErrorKind::DuplicateKey, 12},  // inner repeat first
      {R"({"a":1,"b":"\x"})", ms::json::ErrorKind::Escape, 12},
      {big + "\"k7\":0,\"k1\":0,}", ms::json::ErrorKind::DuplicateKey, big.size()},  // hashed path, earliest repeat
      {big + "\"zz\":0,\"k1\":[1,}", ms::json::ErrorKind::DuplicateKey, big.size() + 7},
  };
  for (const auto& c : cases) {
    auto r = ms::json::parse(c.text.data(), c.text.size());
    if (r.ok || r.kind != c.kind || r.offset != c.offset)
      std::fprintf(stderr, "  %s: ok %d kind %s offset %llu (%s)\n", c.text.substr(0, 60).c_str(), r.ok,
                   msfuzz::detail::err_kind_name(r.kind).c_str(), (unsigned long long)r.offset, r.message.c_str());
    CHECK(!r.ok && r.kind == c.kind && r.offset == c.offset);
  }
  // The depth limit and the value budget are errors like any other.
  ms::json::ParseOptions o;
  o.max_values = 6;
  auto r = ms::json::parse(R"({"a":1,"a":2,"b":3})", 19, o);
  CHECK(!r.ok && r.kind == ms::json::ErrorKind::DuplicateKey && r.offset == 7);
}
