// Strict RFC 8259 parser; see json.h for the guarantees.
#include "json.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>

namespace ms::json {

namespace {

// Length of the valid UTF-8 sequence at s (avail bytes available), or 0.
// Table 3-7 of the Unicode standard: rejects overlongs, surrogates, > U+10FFFF.
inline uint32_t utf8_seq_len(const uint8_t* s, uint64_t avail) {
  const uint8_t b = s[0];
  if (b < 0x80) return 1;
  auto cont = [](uint8_t c) { return c >= 0x80 && c <= 0xBF; };
  if (b >= 0xC2 && b <= 0xDF) return (avail >= 2 && cont(s[1])) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    if (avail < 3) return 0;
    const uint8_t lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
    return (s[1] >= lo && s[1] <= hi && cont(s[2])) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (avail < 4) return 0;
    const uint8_t lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
    return (s[1] >= lo && s[1] <= hi && cont(s[2]) && cont(s[3])) ? 4 : 0;
  }
  return 0;
}

inline int hexval(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline uint32_t put_utf8(char* o, uint32_t cp) {
  if (cp < 0x80) { o[0] = char(cp); return 1; }
  if (cp < 0x800) { o[0] = char(0xC0 | (cp >> 6)); o[1] = char(0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000) {
    o[0] = char(0xE0 | (cp >> 12)); o[1] = char(0x80 | ((cp >> 6) & 0x3F));
    o[2] = char(0x80 | (cp & 0x3F)); return 3;
  }
  o[0] = char(0xF0 | (cp >> 18)); o[1] = char(0x80 | ((cp >> 12) & 0x3F));
  o[2] = char(0x80 | ((cp >> 6) & 0x3F)); o[3] = char(0x80 | (cp & 0x3F)); return 4;
}

// SipHash-1-3 (64-bit) with a per-process random key: duplicate-key
// detection in big objects hashes keys chosen by whoever wrote the file, so
// the hash must not be predictable (no crafted collisions, no flooding).
inline uint64_t rotl64(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }
inline void sipround(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
  v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32);
  v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;
  v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;
  v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32);
}
uint64_t siphash13(const uint8_t* in, uint64_t len, uint64_t k0, uint64_t k1) {
  uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
  const uint8_t* end = in + (len & ~uint64_t(7));
  for (; in != end; in += 8) {
    uint64_t m = 0;
    for (int i = 7; i >= 0; --i) m = (m << 8) | in[i];  // little-endian load
    v3 ^= m; sipround(v0, v1, v2, v3); v0 ^= m;
  }
  uint64_t b = len << 56;
  for (uint64_t i = 0; i < (len & 7); ++i) b |= uint64_t(in[i]) << (8 * i);
  v3 ^= b; sipround(v0, v1, v2, v3); v0 ^= b;
  v2 ^= 0xff;
  sipround(v0, v1, v2, v3); sipround(v0, v1, v2, v3); sipround(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}
struct HashKey { uint64_t k0, k1; };
const HashKey& hash_key() {
  static const HashKey key = [] {
    // Entropy: the OS RNG when available, plus ASLR addresses and the clock.
    uint64_t a = 0, b = 0;
    try {
      std::random_device rd;
      a = (uint64_t(rd()) << 32) ^ rd();
      b = (uint64_t(rd()) << 32) ^ rd();
    } catch (...) {
    }
    static int anchor;
    const uint64_t t = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
    a ^= uint64_t(reinterpret_cast<uintptr_t>(&anchor)) * 0x9E3779B97F4A7C15ULL;
    b ^= t * 0xC2B2AE3D27D4EB4FULL ^ uint64_t(reinterpret_cast<uintptr_t>(&a));
    return HashKey{a, b};
  }();
  return key;
}

std::string printable(uint8_t c) {
  char buf[16];
  if (c >= 0x20 && c < 0x7F) std::snprintf(buf, sizeof buf, "'%c'", c);
  else std::snprintf(buf, sizeof buf, "byte 0x%02X", c);
  return buf;
}

}  // namespace

bool valid_utf8(uint64_t* bad_offset, const uint8_t* s, uint64_t len) {
  uint64_t i = 0;
  while (i < len) {
    if (s[i] < 0x80) { ++i; continue; }  // ASCII fast path
    const uint32_t k = utf8_seq_len(s + i, len - i);
    if (k == 0) { if (bad_offset) *bad_offset = i; return false; }
    i += k;
  }
  return true;
}

class Parser {
 public:
  Parser(const char* data, uint64_t len, const ParseOptions& o, Document* doc)
      : s_(reinterpret_cast<const uint8_t*>(data)), n_(len), max_depth_(o.max_depth),
        max_values_(std::min<uint64_t>(o.max_values, kMaxNodes)), doc_(doc) {}

  bool run() {
    // 32-bit arena offsets and skip pointers: the input must stay below 4 GiB.
    if (n_ > kMaxInput)
      return fail(ErrorKind::TooLarge, 0, "input of " + std::to_string(n_) + " bytes is larger than 4 GiB");
    // Strings and number texts are disjoint slices of the input and decode to
    // at most their raw length, so an arena of n_ bytes never overflows and
    // never moves (pages that are never written are never touched).
    doc_->arena_.reset(new char[n_ ? n_ : 1]);
    doc_->arena_len_ = 0;
    if (!value(0)) return false;
    skip_ws();
    if (p_ != n_) return fail(ErrorKind::Syntax, p_, "unexpected " + printable(s_[p_]) + " after the JSON value");
    return true;
  }

  ErrorKind kind = ErrorKind::None;
  uint64_t err_off = 0;
  std::string msg;

 private:
  using Node = Document::Node;
  static constexpr uint64_t kMaxInput = UINT32_MAX;      // arena offsets are 32-bit
  static constexpr uint64_t kMaxNodes = UINT32_MAX;      // skip pointers are 32-bit
  static constexpr uint64_t kMaxN = (uint64_t(1) << 29) - 1;  // Node::n() has 29 bits
  static constexpr size_t kLinearKeys = 16;              // objects up to this size: pairwise check

  // An object key: its tape node and its byte offset in the input.
  struct KeyRef {
    uint32_t node;
    uint32_t off;
  };

  const uint8_t* s_;
  uint64_t n_, p_ = 0;
  uint32_t max_depth_;
  uint64_t max_values_;
  Document* doc_;
  // Keys of every open object, outermost first; open_[i] is where the keys of
  // the i-th open object start. Duplicates are looked for when an object
  // closes (8 bytes per key while open; nothing to clear between siblings).
  std::vector<KeyRef> keys_;
  std::vector<size_t> open_;

  // Every error goes through here. A duplicate key among the open objects'
  // keys precedes any later error in the input (a streaming check would have
  // stopped at it), so it is reported instead: errors come in input order.
  bool fail(ErrorKind k, uint64_t off, std::string m) {
    KeyRef d{0, 0};
    if (earliest_duplicate(&d)) {
      kind = ErrorKind::DuplicateKey;
      err_off = d.off;
      msg = "duplicate key \"" + std::string(key_of(d).substr(0, 200)) + "\"";
    } else {
      kind = k;
      err_off = off;
      msg = std::move(m);
    }
    return false;
  }
  bool eof_fail(const char* expected) {
    return fail(ErrorKind::Syntax, p_, std::string("unexpected end of input, expected ") + expected);
  }
  void skip_ws() {
    while (p_ < n_ && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r')) ++p_;
  }
  // Appends a tape node; fails (TooLarge at input offset `at`) once the
  // value budget is spent. n <= kMaxN and a < 2^32 are the callers' duty.
  bool push(Type t, uint64_t n, uint64_t a, uint64_t at) {
    if (doc_->nodes_.size() >= max_values_)
      return fail(ErrorKind::TooLarge, at,
                  "more than " + std::to_string(max_values_) + " values and keys in the document (a limit on memory use)");
    doc_->nodes_.push_back(Node{uint32_t(a), uint32_t(n << 3) | uint32_t(t)});
    return true;
  }
  void close_container(uint64_t idx, Type t, uint64_t count) {
    Node& nd = doc_->nodes_[idx];  // by index: children may have reallocated the tape
    nd.tn = uint32_t(count << 3) | uint32_t(t);
    nd.a = uint32_t(doc_->nodes_.size());
  }

  std::string_view key_of(const KeyRef& r) const {
    const Node& nd = doc_->nodes_[r.node];
    return std::string_view(doc_->arena_.get() + nd.a, nd.n());
  }
  // The earliest key (in input order) of keys_[from, to) that repeats an
  // earlier key of the same range (keys_ is in input order). Pairwise for
  // small objects, else an open-addressing table of 4-byte slots built for
  // this check only: O(k), and no state to clear between sibling objects.
  bool duplicate_in(size_t from, size_t to, KeyRef* out) {
    const size_t k = to - from;
    if (k < 2) return false;
    if (k <= kLinearKeys) {
      for (size_t i = from + 1; i < to; ++i)
        for (size_t j = from; j < i; ++j)
          if (key_of(keys_[i]) == key_of(keys_[j])) { *out = keys_[i]; return true; }
      return false;
    }
    size_t cap = 64;
    while (cap < 2 * k) cap *= 2;  // load <= 1/2
    std::vector<uint32_t> slots(cap, 0);  // 0 = empty, else 1 + index into keys_[from, to)
    const HashKey& hk = hash_key();
    for (size_t i = from; i < to; ++i) {
      const std::string_view key = key_of(keys_[i]);
      size_t h = size_t(siphash13(reinterpret_cast<const uint8_t*>(key.data()), key.size(), hk.k0, hk.k1)) & (cap - 1);
      for (;; h = (h + 1) & (cap - 1)) {
        if (slots[h] == 0) { slots[h] = uint32_t(i - from + 1); break; }
        if (key_of(keys_[from + slots[h] - 1]) == key) { *out = keys_[i]; return true; }
      }
    }
    return false;
  }
  bool earliest_duplicate(KeyRef* out) {
    bool found = false;
    for (size_t i = 0; i < open_.size(); ++i) {
      KeyRef d;
      if (duplicate_in(open_[i], i + 1 < open_.size() ? open_[i + 1] : keys_.size(), &d) && (!found || d.off < out->off)) {
        *out = d;
        found = true;
      }
    }
    return found;
  }

  bool value(uint32_t depth) {
    skip_ws();
    if (p_ >= n_) return eof_fail("a value");
    const uint8_t c = s_[p_];
    switch (c) {
      case '{': return object(depth + 1);
      case '[': return array(depth + 1);
      case '"': return string();
      case 't': return literal("true", Type::True);
      case 'f': return literal("false", Type::False);
      case 'n': return literal("null", Type::Null);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        return fail(ErrorKind::Syntax, p_, "unexpected " + printable(c) + ", expected a value");
    }
  }

  bool literal(const char* word, Type t) {
    const uint64_t k = std::strlen(word);
    if (n_ - p_ < k || std::memcmp(s_ + p_, word, k) != 0)
      return fail(ErrorKind::Syntax, p_, std::string("invalid literal, expected ") + word);
    const uint64_t at = p_;
    p_ += k;
    return push(t, 0, 0, at);
  }

  bool number() {
    const uint64_t start = p_;
    auto digit = [&](uint64_t i) { return i < n_ && s_[i] >= '0' && s_[i] <= '9'; };
    if (s_[p_] == '-') ++p_;
    if (!digit(p_)) return fail(ErrorKind::Syntax, p_, "invalid number: expected a digit");
    if (s_[p_] == '0') ++p_;  // no leading zeros: "01" ends after the 0
    else while (digit(p_)) ++p_;
    if (p_ < n_ && s_[p_] == '.') {
      ++p_;
      if (!digit(p_)) return fail(ErrorKind::Syntax, p_, "invalid number: expected a digit after '.'");
      while (digit(p_)) ++p_;
    }
    if (p_ < n_ && (s_[p_] == 'e' || s_[p_] == 'E')) {
      ++p_;
      if (p_ < n_ && (s_[p_] == '+' || s_[p_] == '-')) ++p_;
      if (!digit(p_)) return fail(ErrorKind::Syntax, p_, "invalid number: expected a digit in the exponent");
      while (digit(p_)) ++p_;
    }
    const uint64_t len = p_ - start;
    if (len > kMaxN) return fail(ErrorKind::TooLarge, start, "number literal longer than 512 MiB");
    if (!push(Type::Number, len, doc_->arena_len_, start)) return false;
    std::memcpy(doc_->arena_.get() + doc_->arena_len_, s_ + start, len);
    doc_->arena_len_ += len;
    return true;
  }

  bool hex4(uint64_t at, uint32_t* out) {
    if (n_ - at < 4) return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = hexval(s_[at + i]);
      if (h < 0) return false;
      v = (v << 4) | uint32_t(h);
    }
    *out = v;
    return true;
  }

  // Parses the string at p_ (which is '"'), decodes it into the arena and
  // pushes a String node.
  bool string() {
    const uint64_t start = p_;
    ++p_;
    char* out = doc_->arena_.get() + doc_->arena_len_;
    uint64_t olen = 0;
    for (;;) {
      if (p_ >= n_) return fail(ErrorKind::Syntax, start, "unterminated string");
      const uint8_t c = s_[p_];
      if (c == '"') { ++p_; break; }
      if (c < 0x20)
        return fail(ErrorKind::Syntax, p_, "unescaped control character " + printable(c) + " in string");
      if (c == '\\') {
        if (p_ + 1 >= n_) return fail(ErrorKind::Syntax, start, "unterminated string");
        const uint8_t e = s_[p_ + 1];
        char simple = 0;
        switch (e) {
          case '"': simple = '"'; break;
          case '\\': simple = '\\'; break;
          case '/': simple = '/'; break;
          case 'b': simple = '\b'; break;
          case 'f': simple = '\f'; break;
          case 'n': simple = '\n'; break;
          case 'r': simple = '\r'; break;
          case 't': simple = '\t'; break;
          case 'u': break;
          default: return fail(ErrorKind::Escape, p_, "invalid escape \\" + std::string(1, char(e)) +
                                                          (e >= 0x20 && e < 0x7F ? "" : " (non-printable)"));
        }
        if (simple) { out[olen++] = simple; p_ += 2; continue; }
        uint32_t cp;
        if (!hex4(p_ + 2, &cp)) return fail(ErrorKind::Escape, p_, "invalid \\u escape: expected 4 hex digits");
        uint64_t esc_len = 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
          return fail(ErrorKind::Escape, p_, "lone low surrogate in \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo;
          if (n_ - p_ < 12 || s_[p_ + 6] != '\\' || s_[p_ + 7] != 'u' || !hex4(p_ + 8, &lo) ||
              lo < 0xDC00 || lo > 0xDFFF)
            return fail(ErrorKind::Escape, p_, "lone high surrogate in \\u escape (expected a \\uDC00-\\uDFFF pair)");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          esc_len = 12;
        }
        olen += put_utf8(out + olen, cp);  // <= esc_len bytes: fits the arena bound
        p_ += esc_len;
        continue;
      }
      const uint32_t k = utf8_seq_len(s_ + p_, n_ - p_);
      if (k == 0) return fail(ErrorKind::Utf8, p_, "invalid UTF-8 in string");
      std::memcpy(out + olen, s_ + p_, k);
      olen += k;
      p_ += k;
    }
    if (olen > kMaxN) return fail(ErrorKind::TooLarge, start, "string longer than 512 MiB");
    if (!push(Type::String, olen, doc_->arena_len_, start)) return false;
    doc_->arena_len_ += olen;
    return true;
  }

  bool array(uint32_t depth) {
    if (depth > max_depth_)
      return fail(ErrorKind::Depth, p_, "nesting deeper than " + std::to_string(max_depth_) + " levels");
    const uint64_t idx = doc_->nodes_.size();
    if (!push(Type::Array, 0, 0, p_)) return false;
    ++p_;
    uint64_t count = 0;
    skip_ws();
    if (p_ < n_ && s_[p_] == ']') {
      ++p_;
    } else {
      for (;;) {
        if (!value(depth)) return false;
        if (++count > kMaxN) return fail(ErrorKind::TooLarge, p_, "array with more than 2^29-1 elements");
        skip_ws();
        if (p_ >= n_) return eof_fail("',' or ']'");
        if (s_[p_] == ',') { ++p_; continue; }
        if (s_[p_] == ']') { ++p_; break; }
        return fail(ErrorKind::Syntax, p_, "unexpected " + printable(s_[p_]) + ", expected ',' or ']'");
      }
    }
    close_container(idx, Type::Array, count);
    return true;
  }

  bool object(uint32_t depth) {
    if (depth > max_depth_)
      return fail(ErrorKind::Depth, p_, "nesting deeper than " + std::to_string(max_depth_) + " levels");
    const uint64_t idx = doc_->nodes_.size();
    if (!push(Type::Object, 0, 0, p_)) return false;
    ++p_;
    open_.push_back(keys_.size());
    uint64_t count = 0;
    skip_ws();
    if (p_ < n_ && s_[p_] == '}') {
      ++p_;
    } else {
      for (;;) {
        skip_ws();
        if (p_ >= n_) return eof_fail("a string key");
        if (s_[p_] != '"')
          return fail(ErrorKind::Syntax, p_, "unexpected " + printable(s_[p_]) + ", expected a string key");
        const uint64_t key_off = p_;
        if (!string()) return false;
        keys_.push_back(KeyRef{uint32_t(doc_->nodes_.size() - 1), uint32_t(key_off)});
        skip_ws();
        if (p_ >= n_) return eof_fail("':'");
        if (s_[p_] != ':') return fail(ErrorKind::Syntax, p_, "unexpected " + printable(s_[p_]) + ", expected ':'");
        ++p_;
        if (!value(depth)) return false;
        if (++count > kMaxN) return fail(ErrorKind::TooLarge, p_, "object with more than 2^29-1 members");
        skip_ws();
        if (p_ >= n_) return eof_fail("',' or '}'");
        if (s_[p_] == ',') { ++p_; continue; }
        if (s_[p_] == '}') { ++p_; break; }
        return fail(ErrorKind::Syntax, p_, "unexpected " + printable(s_[p_]) + ", expected ',' or '}'");
      }
    }
    KeyRef d;
    if (duplicate_in(open_.back(), keys_.size(), &d))
      return fail(ErrorKind::DuplicateKey, d.off, "duplicate key");  // fail() names the earliest one
    keys_.resize(open_.back());
    open_.pop_back();
    close_container(idx, Type::Object, count);
    return true;
  }
};

ParseResult parse(const char* data, uint64_t len, const ParseOptions& opts) {
  ParseResult r;
  Parser p(data, len, opts, &r.doc);
  r.ok = p.run();
  if (!r.ok) {
    r.kind = p.kind;
    r.offset = p.err_off;
    r.message = std::move(p.msg);
    r.doc = Document();
  }
  return r;
}

// ---------------------------------------------------------------- Value

Type Value::type() const { return doc_->nodes_[idx_].type(); }

std::string_view Value::str() const {
  if (!valid()) return {};
  const auto& nd = doc_->nodes_[idx_];
  if (nd.type() != Type::String && nd.type() != Type::Number) return {};
  return std::string_view(doc_->arena_.get() + nd.a, nd.n());
}

double Value::as_double() const {
  if (!is_number()) return 0;
  const std::string_view t = str();
  double d = 0;
  const auto r = std::from_chars(t.data(), t.data() + t.size(), d);
  if (r.ec == std::errc()) return d;
  // Out of range: decide between overflow and underflow from the decimal
  // exponent of the first significant digit (grammar already validated).
  const bool neg = t[0] == '-';
  size_t i = neg ? 1 : 0;
  int64_t mag = 0;  // approx. decimal exponent of the leading digit
  if (t[i] != '0') {
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') { ++i; ++mag; }
  } else {
    ++i;
    if (i < t.size() && t[i] == '.') {
      ++i;
      while (i < t.size() && t[i] == '0') { ++i; --mag; }
    }
  }
  const size_t e = t.find_first_of("eE");
  if (e != std::string_view::npos) {
    size_t j = e + 1;
    bool eneg = false;
    if (t[j] == '+' || t[j] == '-') { eneg = t[j] == '-'; ++j; }
    int64_t ev = 0;
    for (; j < t.size(); ++j) ev = ev < 100000 ? ev * 10 + (t[j] - '0') : ev;  // clamp
    mag += eneg ? -ev : ev;
  }
  const double v = mag > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  return neg ? -v : v;
}

bool Value::as_u64(uint64_t* out) const {
  if (!is_number()) return false;
  const std::string_view t = str();
  uint64_t v = 0;
  for (const char c : t) {
    if (c < '0' || c > '9') return false;  // sign, fraction or exponent
    if (__builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, uint64_t(c - '0'), &v)) return false;
  }
  *out = v;
  return true;
}

uint64_t Value::size() const {
  if (!valid()) return 0;
  const auto& nd = doc_->nodes_[idx_];
  return (nd.type() == Type::Array || nd.type() == Type::Object) ? nd.n() : 0;
}

Value Value::get(std::string_view key) const {
  for (const Member m : members())
    if (m.key == key) return m.value;
  return Value();
}

Value::ElemRange Value::elements() const {
  if (!is_array()) return ElemRange(doc_, 0, 0);
  return ElemRange(doc_, idx_ + 1, doc_->nodes_[idx_].a);
}

Value::MemberRange Value::members() const {
  if (!is_object()) return MemberRange(doc_, 0, 0);
  return MemberRange(doc_, idx_ + 1, doc_->nodes_[idx_].a);
}

Value::Member Value::MemberRange::It::operator*() const {
  return Member{Value(doc_, i_).str(), Value(doc_, i_ + 1)};
}

// ---------------------------------------------------------------- writing

void append_quoted(std::string* out, std::string_view s) {
  static const char hex[] = "0123456789abcdef";
  out->push_back('"');
  for (const char ch : s) {
    const uint8_t c = uint8_t(ch);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          const char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
          out->append(esc, 6);
        } else {
          out->push_back(ch);
        }
    }
  }
  out->push_back('"');
}

}  // namespace ms::json
