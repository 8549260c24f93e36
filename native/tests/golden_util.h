// Test-only helpers for the golden cases: a minimal JSON reader and a tiny
// safetensors loader (8-byte LE header length, JSON header with dtype /
// shape / data_offsets relative to the data section). Independent of the
// engine's own safetensors code on purpose.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "dtype.h"

namespace golden {

struct Json {
  enum Kind { Null, Bool, Num, Str, Arr, Obj } kind = Null;
  bool b = false;
  double num = 0;
  std::string str;
  std::vector<Json> arr;
  std::vector<std::pair<std::string, Json>> obj;

  static Json number(double v) {
    Json j;
    j.kind = Num;
    j.num = v;
    return j;
  }
  bool has(const std::string& k) const {
    for (auto& kv : obj) if (kv.first == k) return true;
    return false;
  }
  const Json& operator[](const std::string& k) const {
    for (auto& kv : obj) if (kv.first == k) return kv.second;
    throw std::runtime_error("json: missing key " + k);
  }
  const Json& operator[](size_t i) const { return arr.at(i); }
  bool is_null() const { return kind == Null; }
  uint64_t u64() const { return uint64_t(num); }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : s_(s) {}
  Json parse() {
    Json v = value();
    ws();
    if (i_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("json: ") + what + " at " + std::to_string(i_)); }
  void ws() { while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_; }
  bool lit(const char* w) {
    const size_t n = std::strlen(w);
    if (s_.compare(i_, n, w) == 0) { i_ += n; return true; }
    return false;
  }
  std::string string() {
    if (s_[i_] != '"') fail("expected string");
    ++i_;
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c == '\\') {
        char e = s_.at(i_++);
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'u': {
            unsigned cp = std::stoul(s_.substr(i_, 4), nullptr, 16);
            i_ += 4;
            if (cp < 0x80) out += char(cp);
            else if (cp < 0x800) { out += char(0xc0 | (cp >> 6)); out += char(0x80 | (cp & 0x3f)); }
            else { out += char(0xe0 | (cp >> 12)); out += char(0x80 | ((cp >> 6) & 0x3f)); out += char(0x80 | (cp & 0x3f)); }
            break;
          }
          default: out += e;
        }
      } else {
        out += c;
      }
    }
    if (i_ >= s_.size()) fail("unterminated string");
    ++i_;
    return out;
  }
  Json value() {
    ws();
    if (i_ >= s_.size()) fail("unexpected end");
    Json v;
    const char c = s_[i_];
    if (c == '{') {
      v.kind = Json::Obj;
      ++i_;
      ws();
      if (s_[i_] == '}') { ++i_; return v; }
      for (;;) {
        ws();
        std::string k = string();
        ws();
        if (s_[i_++] != ':') fail("expected ':'");
        v.obj.emplace_back(std::move(k), value());
        ws();
        if (s_[i_] == ',') { ++i_; continue; }
        if (s_[i_] == '}') { ++i_; return v; }
        fail("expected ',' or '}'");
      }
    }
    if (c == '[') {
      v.kind = Json::Arr;
      ++i_;
      ws();
      if (s_[i_] == ']') { ++i_; return v; }
      for (;;) {
        v.arr.push_back(value());
        ws();
        if (s_[i_] == ',') { ++i_; continue; }
        if (s_[i_] == ']') { ++i_; return v; }
        fail("expected ',' or ']'");
      }
    }
    if (c == '"') { v.kind = Json::Str; v.str = string(); return v; }
    if (lit("null")) return v;
    if (lit("true")) { v.kind = Json::Bool; v.b = true; return v; }
    if (lit("false")) { v.kind = Json::Bool; v.b = false; return v; }
    size_t end = i_;
    while (end < s_.size() && std::strchr("+-0123456789.eE", s_[end])) ++end;
    if (end == i_) fail("unexpected character");
    v.kind = Json::Num;
    v.num = std::stod(s_.substr(i_, end - i_));
    i_ = end;
    return v;
  }
  const std::string& s_;
  size_t i_ = 0;
};

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

inline Json parse_json_file(const std::string& path) {
  const std::string s = read_file(path);
  return JsonParser(s).parse();
}

struct StTensor {
  std::string dtype;           // "F32", "F16", "BF16", "U8"
  std::vector<uint64_t> shape;
  std::vector<float> f;        // widened values (float dtypes)
  std::vector<uint8_t> u8;     // raw bytes (U8)
  uint64_t numel() const {
    uint64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
  }
};

inline std::map<std::string, StTensor> load_safetensors(const std::string& path) {
  const std::string raw = read_file(path);
  if (raw.size() < 8) throw std::runtime_error("safetensors too small: " + path);
  uint64_t hlen = 0;
  for (int b = 7; b >= 0; --b) hlen = (hlen << 8) | uint8_t(raw[size_t(b)]);
  if (8 + hlen > raw.size()) throw std::runtime_error("bad header length: " + path);
  const std::string hdr = raw.substr(8, hlen);
  const Json h = JsonParser(hdr).parse();
  const char* data = raw.data() + 8 + hlen;
  const uint64_t data_len = raw.size() - 8 - hlen;
  std::map<std::string, StTensor> out;
  for (const auto& [name, info] : h.obj) {
    if (name == "__metadata__") continue;
    StTensor t;
    t.dtype = info["dtype"].str;
    for (const auto& d : info["shape"].arr) t.shape.push_back(d.u64());
    const uint64_t b0 = info["data_offsets"][0].u64(), b1 = info["data_offsets"][1].u64();
    if (b1 < b0 || b1 > data_len) throw std::runtime_error("bad offsets for " + name);
    const uint64_t n = t.numel();
    const char* p = data + b0;
    if (t.dtype == "F32") {
      if (b1 - b0 != n * 4) throw std::runtime_error("size mismatch " + name);
      t.f.resize(n);
      std::memcpy(t.f.data(), p, n * 4);
    } else if (t.dtype == "F16" || t.dtype == "BF16") {
      if (b1 - b0 != n * 2) throw std::runtime_error("size mismatch " + name);
      std::vector<uint16_t> h16(n);
      std::memcpy(h16.data(), p, n * 2);
      t.f.resize(n);
      for (uint64_t i = 0; i < n; ++i) t.f[i] = t.dtype == "F16" ? ms::f16_to_f32(h16[i]) : ms::bf16_to_f32(h16[i]);
    } else if (t.dtype == "U8") {
      if (b1 - b0 != n) throw std::runtime_error("size mismatch " + name);
      t.u8.assign(reinterpret_cast<const uint8_t*>(p), reinterpret_cast<const uint8_t*>(p) + n);
    } else {
      throw std::runtime_error("unsupported dtype " + t.dtype + " in " + path);
    }
    out.emplace(name, std::move(t));
  }
  return out;
}

}  // namespace golden
