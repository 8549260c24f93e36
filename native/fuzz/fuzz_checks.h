// Oracles shared by the libFuzzer harnesses (native/fuzz/fuzz_*.cc) and the
// corpus replay test (native/tests/test_fuzz_regressions.cc, plain g++ build).
//
// Each check_* function runs one input through a parser of the N-API-free
// core. An ms::MergeError (or a failed json::ParseResult) is the expected
// way to reject bad input and is returned as the outcome; anything else is
// reported in Outcome::bug: another exception, or a violated invariant of an
// accepted input (round trips, sortedness, contiguous offsets...). Crashes,
// sanitizer reports, timeouts and memory limits are caught by libFuzzer.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "errors.h"
#include "json.h"
#include "model_source.h"
#include "safetensors.h"

namespace msfuzz {

struct Outcome {
  bool ok = false;                               // parsed
  ms::ErrorCode code = ms::ErrorCode::INTERNAL;  // MergeError code when !ok (safetensors/index)
  ms::json::ErrorKind kind = ms::json::ErrorKind::None;  // json::parse error kind when !ok (json)
  std::string bug;                               // non-empty: a bug (harness aborts, test fails)
};

namespace detail {

inline std::string hexdump(std::string_view s, size_t max = 64) {
  std::string o;
  char b[4];
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    std::snprintf(b, sizeof b, "%02x", uint8_t(s[i]));
    o += b;
  }
  if (s.size() > max) o += "...";
  return o;
}

inline uint64_t le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Canonical re-serialization of a parsed value (keys in document order,
// numbers as their raw text, strings re-escaped by json::append_quoted).
inline void serialize(const ms::json::Value& v, std::string* out) {
  using ms::json::Type;
  switch (v.type()) {
    case Type::Null: *out += "null"; return;
    case Type::False: *out += "false"; return;
    case Type::True: *out += "true"; return;
    case Type::Number: out->append(v.str()); return;
    case Type::String: ms::json::append_quoted(out, v.str()); return;
    case Type::Array: {
      *out += '[';
      bool first = true;
      for (const auto e : v.elements()) {
        if (!first) *out += ',';
        first = false;
        serialize(e, out);
      }
      *out += ']';
      return;
    }
    case Type::Object: {
      *out += '{';
      bool first = true;
      for (const auto m : v.members()) {
        if (!first) *out += ',';
        first = false;
        ms::json::append_quoted(out, m.key);
        *out += ':';
        serialize(m.value, out);
      }
      *out += '}';
      return;
    }
  }
  *out += "<bad type>";
}

struct WalkStats {
  uint64_t values = 0;   // tape nodes: values + object keys
  uint32_t depth = 0;    // deepest container nesting (0 for a scalar document)
  uint64_t get_checks = 0;
};

inline bool utf8_ok(std::string_view s) {
  return ms::json::valid_utf8(nullptr, reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Structural invariants of a parsed value; returns a description of the
// first violation or "".
inline std::string walk(const ms::json::Value& v, uint32_t depth, WalkStats* st) {
  using ms::json::Type;
  ++st->values;
  if (!v.valid()) return "invalid Value inside the document";
  const Type t = v.type();
  const int kinds = int(v.is_null()) + int(v.is_bool()) + int(v.is_number()) + int(v.is_string()) +
                    int(v.is_array()) + int(v.is_object());
  if (kinds != 1) return "is_* predicates disagree for type " + std::to_string(int(t));
  switch (t) {
    case Type::Null:
    case Type::False:
    case Type::True:
      if (!v.str().empty() || v.size() != 0) return "literal with text or size";
      if (v.as_bool() != (t == Type::True)) return "as_bool disagrees with the type";
      return "";
    case Type::String:
      if (!utf8_ok(v.str())) return "decoded string is not valid UTF-8: " + hexdump(v.str());
      if (v.size() != 0 || v.as_double() != 0) return "string with size or numeric value";
      return "";
    case Type::Number: {
      const std::string_view s = v.str();
      if (s.empty()) return "number with empty text";
      uint64_t u = 0;
      const bool digits = std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
      const bool is_u = v.as_u64(&u);
      if (is_u && !digits) return "as_u64 accepted non-digit text " + std::string(s.substr(0, 40));
      if (is_u && std::to_string(u) != s) return "as_u64 value differs from its text " + std::string(s.substr(0, 40));
      if (digits && !is_u && s.size() < 20) return "as_u64 rejected a small integer " + std::string(s);
      const double d = v.as_double();
      if (is_u && u <= (uint64_t(1) << 53) && d != double(u)) return "as_double differs from as_u64 for " + std::string(s);
      if ((s[0] == '-') != std::signbit(d) && d != 0) return "as_double sign differs for " + std::string(s.substr(0, 40));
      return "";
    }
    case Type::Array: {
      if (depth >= 1000) return "nesting beyond any max_depth";
      st->depth = std::max(st->depth, depth + 1);
      uint64_t n = 0;
      for (const auto e : v.elements()) {
        if (++n > v.size()) return "array iterates past its size";
        std::string b = walk(e, depth + 1, st);
        if (!b.empty()) return b;
      }
      if (n != v.size()) return "array size " + std::to_string(v.size()) + " but " + std::to_string(n) + " elements";
      if (v.get("x").valid() || v.members().begin() != v.members().end()) return "array has members";
      return "";
    }
    case Type::Object: {
      if (depth >= 1000) return "nesting beyond any max_depth";
      st->depth = std::max(st->depth, depth + 1);
      uint64_t n = 0;
      std::vector<std::string_view> keys;
      for (const auto m : v.members()) {
        if (++n > v.size()) return "object iterates past its size";
        ++st->values;  // the key node
        if (!utf8_ok(m.key)) return "decoded key is not valid UTF-8: " + hexdump(m.key);
        keys.push_back(m.key);
        std::string b = walk(m.value, depth + 1, st);
        if (!b.empty()) return b;
        // get() finds each key (linear: bounded so big objects stay fast).
        if (st->get_checks < 4096) {
          ++st->get_checks;
          const auto g = v.get(m.key);
          if (!g.valid() || g.type() != m.value.type() || g.size() != m.value.size() || g.str() != m.value.str())
            return "get() does not find member " + hexdump(m.key);
        }
      }
      if (n != v.size()) return "object size " + std::to_string(v.size()) + " but " + std::to_string(n) + " members";
      std::sort(keys.begin(), keys.end());
      if (std::adjacent_find(keys.begin(), keys.end()) != keys.end()) return "duplicate key accepted";
      if (v.elements().begin() != v.elements().end()) return "object has elements";
      return "";
    }
  }
  return "unknown type";
}

inline std::string err_kind_name(ms::json::ErrorKind k) {
  static const char* const names[] = {"None", "Syntax", "Utf8", "Escape", "Depth", "DuplicateKey", "TooLarge"};
  const auto i = size_t(k);
  return i < sizeof names / sizeof names[0] ? names[i] : "?";
}

}  // namespace detail

// json::parse with every accepted document checked: valid UTF-8 input,
// structural invariants, serialize -> parse -> serialize is a fixed point,
// and the max_depth / max_values limits are exact (the document parses with
// limits equal to its own depth / value count and fails with one less).
inline Outcome check_json(const uint8_t* data, size_t size) {
  Outcome o;
  try {
    const char* p = reinterpret_cast<const char*>(data);
    ms::json::ParseResult r = ms::json::parse(p, size);
    if (!r.ok) {
      o.kind = r.kind;
      if (r.kind == ms::json::ErrorKind::None) o.bug = "failed parse without an error kind";
      else if (r.offset > size) o.bug = "error offset past the end of the input";
      else if (r.message.empty()) o.bug = "error without a message";
      return o;
    }
    o.ok = true;
    if (!detail::utf8_ok(std::string_view(p, size))) return o.bug = "accepted input that is not valid UTF-8", o;
    const ms::json::Value root = r.doc.root();
    detail::WalkStats st;
    o.bug = detail::walk(root, 0, &st);
    if (!o.bug.empty()) return o;

    std::string s1;
    detail::serialize(root, &s1);
    ms::json::ParseResult r2 = ms::json::parse(s1.data(), s1.size());
    if (!r2.ok) return o.bug = "re-serialized document does not parse: " + r2.message + " in " + detail::hexdump(s1), o;
    std::string s2;
    detail::serialize(r2.doc.root(), &s2);
    if (s1 != s2) return o.bug = "serialize/parse is not a fixed point: " + detail::hexdump(s1) + " vs " + detail::hexdump(s2), o;

    // Limits are exact.
    ms::json::ParseOptions lim;
    lim.max_depth = st.depth;
    lim.max_values = st.values;
    if (!ms::json::parse(p, size, lim).ok) return o.bug = "document rejected with limits equal to its own depth and size", o;
    if (st.depth > 0) {
      ms::json::ParseOptions d = lim;
      d.max_depth = st.depth - 1;
      const auto rd = ms::json::parse(p, size, d);
      if (rd.ok || rd.kind != ms::json::ErrorKind::Depth)
        return o.bug = "max_depth " + std::to_string(d.max_depth) + " not enforced (kind " + detail::err_kind_name(rd.kind) + ")", o;
    }
    ms::json::ParseOptions v = lim;
    v.max_values = st.values - 1;
    const auto rv = ms::json::parse(p, size, v);
    if (rv.ok || rv.kind != ms::json::ErrorKind::TooLarge)
      return o.bug = "max_values " + std::to_string(v.max_values) + " not enforced (kind " + detail::err_kind_name(rv.kind) + ")", o;
  } catch (const std::exception& e) {
    o.bug = std::string("unexpected exception from json::parse: ") + e.what();
  } catch (...) {
    o.bug = "unexpected non-std exception from json::parse";
  }
  return o;
}

// parse_safetensors_header over the bytes as a whole file (buf = data,
// file_size = size); accepted headers are checked against the format's
// invariants and find()/by_name, and the result must not change when only
// the bytes read_safetensors_header would read are passed.
inline Outcome check_safetensors(const uint8_t* data, size_t size) {
  Outcome o;
  static const std::string label = "fuzz/model.safetensors";
  auto run = [&](uint64_t buf_len, Outcome* out) -> ms::SafetensorsHeader {
    try {
      ms::SafetensorsHeader h = ms::parse_safetensors_header(data, buf_len, size, label);
      out->ok = true;
      return h;
    } catch (const ms::MergeError& e) {
      out->code = e.code();
      if (e.code() == ms::ErrorCode::INTERNAL) out->bug = std::string("INTERNAL error: ") + e.what();
      else if (std::string(e.what()).find(label) == std::string::npos) out->bug = std::string("message lacks the file label: ") + e.what();
    } catch (const std::exception& e) {
      out->bug = std::string("unexpected exception: ") + e.what();
    } catch (...) {
      out->bug = "unexpected non-std exception";
    }
    return {};
  };
  const ms::SafetensorsHeader h = run(size, &o);
  if (!o.bug.empty()) return o;

  // What read_safetensors_header passes: 8 + N bytes when N is plausible,
  // else the first min(size, 9) bytes.
  uint64_t part = std::min<uint64_t>(size, 9);
  if (size >= 8) {
    const uint64_t n = detail::le64(data);
    if (n <= ms::kStMaxHeaderBytes && n <= size - 8) part = 8 + n;
  }
  if (part < size) {
    Outcome o2;
    const ms::SafetensorsHeader h2 = run(part, &o2);
    if (!o2.bug.empty()) return o.bug = "header-only read: " + o2.bug, o;
    if (o2.ok != o.ok || (!o.ok && o2.code != o.code) || h2.tensors.size() != h.tensors.size())
      return o.bug = std::string("header-only read disagrees with the whole-file parse: ") +
                     (o.ok ? "ok" : ms::error_code_name(o.code)) + " vs " + (o2.ok ? "ok" : ms::error_code_name(o2.code)),
             o;
  }
  if (!o.ok) return o;

  // Accepted: check the invariants the merge engine relies on.
  if (size < 8 || h.header_len != detail::le64(data) || h.data_start != 8 + h.header_len || h.file_size != size ||
      h.header_len > ms::kStMaxHeaderBytes || h.data_start > size)
    return o.bug = "header geometry wrong", o;
  uint64_t pos = h.data_start;
  for (const auto& t : h.tensors) {
    if (t.data_begin != pos || t.data_end < t.data_begin) return o.bug = "tensors not contiguous in file order", o;
    pos = t.data_end;
    uint64_t numel = 1;
    for (const uint64_t d : t.shape) numel *= d;  // no overflow: the parser checked
    if (numel != t.numel) return o.bug = "numel is not the product of the shape", o;
    const uint64_t bits = ms::st_dtype_bits(t.dtype);
    if (bits == 0 || t.numel * bits % 8 != 0 || t.nbytes() != t.numel * bits / 8)
      return o.bug = "tensor size disagrees with dtype and shape", o;
    ms::StDtype back;
    if (!ms::st_dtype_from_name(&back, ms::st_dtype_name(t.dtype)) || back != t.dtype) return o.bug = "dtype name round trip", o;
    if (!detail::utf8_ok(t.name) || t.name == "__metadata__") return o.bug = "bad tensor name accepted", o;
  }
  if (pos != size) return o.bug = "tensors do not cover the data section exactly", o;
  if (h.by_name.size() != h.tensors.size()) return o.bug = "by_name not filled", o;
  for (size_t i = 0; i < h.by_name.size(); ++i) {
    if (h.by_name[i] >= h.tensors.size()) return o.bug = "by_name index out of range", o;
    if (i && !(h.tensors[h.by_name[i - 1]].name < h.tensors[h.by_name[i]].name))
      return o.bug = "by_name not strictly sorted (duplicate tensor name?)", o;
  }
  for (const auto& t : h.tensors)
    if (h.find(t.name) != &t) return o.bug = "find() misses tensor " + detail::hexdump(t.name), o;
  if (h.find("\xff") != nullptr || h.find("__metadata__") != nullptr) return o.bug = "find() returns a tensor that cannot exist", o;
  for (const auto& [k, v] : h.metadata)
    if (!detail::utf8_ok(k) || !detail::utf8_ok(v)) return o.bug = "metadata not valid UTF-8", o;
  return o;
}

// parse_index_json; accepted weight maps must be non-empty, hold unique
// tensor names and plain shard file names only.
inline Outcome check_index_json(const uint8_t* data, size_t size) {
  Outcome o;
  static const std::string label = "fuzz/model.safetensors.index.json";
  try {
    const auto wm = ms::parse_index_json(reinterpret_cast<const char*>(data), size, label);
    o.ok = true;
    if (wm.empty()) return o.bug = "empty weight_map accepted", o;
    std::vector<std::string_view> names;
    names.reserve(wm.size());
    for (const auto& [tensor, shard] : wm) {
      if (!ms::is_plain_file_name(shard) || shard.find('/') != std::string::npos || shard == ".." || shard.empty())
        return o.bug = "shard path accepted that escapes the model directory: " + detail::hexdump(shard), o;
      if (!detail::utf8_ok(tensor) || !detail::utf8_ok(shard)) return o.bug = "weight_map entry not valid UTF-8", o;
      names.push_back(tensor);
    }
    std::sort(names.begin(), names.end());
    if (std::adjacent_find(names.begin(), names.end()) != names.end()) return o.bug = "duplicate tensor name accepted", o;
  } catch (const ms::MergeError& e) {
    o.code = e.code();
    if (e.code() != ms::ErrorCode::IDX_JSON_INVALID && e.code() != ms::ErrorCode::IDX_WEIGHT_MAP_INVALID &&
        e.code() != ms::ErrorCode::IDX_SHARD_PATH_INVALID)
      o.bug = std::string("unexpected error code ") + e.code_name() + ": " + e.what();
    else if (std::string(e.what()).find(label) == std::string::npos)
      o.bug = std::string("message lacks the file label: ") + e.what();
  } catch (const std::exception& e) {
    o.bug = std::string("unexpected exception: ") + e.what();
  } catch (...) {
    o.bug = "unexpected non-std exception";
  }
  return o;
}

}  // namespace msfuzz
