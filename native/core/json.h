// Small strict JSON parser (RFC 8259) for safetensors headers and HF index files.
//
// Strictness: no trailing garbage, no BOM, no comments, no trailing commas,
// strings must be valid UTF-8 (no overlongs, no encoded surrogates), escapes
// are checked, \uXXXX surrogate pairs are combined and lone surrogates are
// rejected (they cannot be represented in UTF-8). Duplicate object keys are
// an error of their own kind so callers can map them to their own code.
//
// The parser never throws for bad input: it returns a ParseResult with the
// byte offset of the problem. Recursion is bounded by max_depth. When an
// input has several problems, the first one in input order is reported.
//
// Memory (hostile inputs are expected: safetensors headers may be 100 MB):
// the document is a flat pre-order "tape" of 8-byte nodes, one per value and
// one per object key, plus an arena holding decoded strings and raw number
// text (arena <= input size). The node count is capped by
// ParseOptions::max_values (default 2^24, i.e. at most 128 MiB of tape), so
// whatever the input the parser allocates at most about the input size plus
// 300 MiB (measured on 100 MB hostile inputs; "[1,1,1,...]" used to cost
// ~16 bytes per input byte: +1 GB for a 100 MB header). Duplicate keys are
// looked for when an object closes (8 bytes per open key; big objects use a
// table hashed with SipHash under a per-process random key, so crafted keys
// cannot make it quadratic).
// Limits of the compact tape: input < 4 GiB, strings < 512 MiB, containers
// < 2^29 members; beyond them parse fails with ErrorKind::TooLarge.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ms::json {

enum class Type : uint8_t { Null, False, True, Number, String, Array, Object };

enum class ErrorKind : uint8_t {
  None,
  Syntax,        // malformed JSON (includes empty input and trailing garbage)
  Utf8,          // invalid UTF-8 inside a string
  Escape,        // bad backslash escape or lone surrogate
  Depth,         // nesting deeper than ParseOptions::max_depth
  DuplicateKey,  // same key twice in one object
  TooLarge,      // more values than ParseOptions::max_values, or beyond the tape's
                 // limits (input >= 4 GiB, string >= 512 MiB, container >= 2^29 members)
};

struct ParseOptions {
  uint32_t max_depth = 64;  // containers nested deeper than this are rejected
  // Budget of tape nodes: every value and every object key counts one, so
  // {"a":[1,2]} holds 5. Bounds the tape to 8 * max_values bytes. The default
  // holds a safetensors header at the 100 MB limit made of ordinary entries
  // (~12 values per ~100-byte tensor entry: ~12M values; real checkpoints
  // have at most ~10^5 tensors per file). Exceeding it: ErrorKind::TooLarge.
  uint64_t max_values = uint64_t(1) << 24;
};

class Document;

// Cheap handle to one value of a Document (document pointer + tape index).
// It points into its Document: keep the ParseResult alive, and do not move
// it, while Values taken from it are in use.
// A default-constructed Value is "absent" (valid() == false), which is what
// Value::get returns for a missing key.
class Value {
 public:
  Value() = default;
  bool valid() const { return doc_ != nullptr; }
  Type type() const;
  bool is_null() const { return valid() && type() == Type::Null; }
  bool is_bool() const { return valid() && (type() == Type::True || type() == Type::False); }
  bool is_number() const { return valid() && type() == Type::Number; }
  bool is_string() const { return valid() && type() == Type::String; }
  bool is_array() const { return valid() && type() == Type::Array; }
  bool is_object() const { return valid() && type() == Type::Object; }

  bool as_bool() const { return type() == Type::True; }
  // String: decoded UTF-8. Number: the raw JSON text. Otherwise empty.
  std::string_view str() const;
  // Number as double (+-inf when out of range); 0 for non-numbers.
  double as_double() const;
  // Exact unsigned integer: true only for a number written as plain digits
  // (no sign, fraction or exponent) that fits in 64 bits.
  bool as_u64(uint64_t* out) const;
  // Number of array elements or object members; 0 for scalars.
  uint64_t size() const;

  // Object lookup by key, linear in the member count; absent Value if missing
  // or if this is not an object.
  Value get(std::string_view key) const;

  struct Member;
  // Iterate array elements (yields Value) or object members (yields Member).
  class ElemRange;
  class MemberRange;
  ElemRange elements() const;   // empty for non-arrays
  MemberRange members() const;  // empty for non-objects

 private:
  friend class Document;
  Value(const Document* d, uint64_t i) : doc_(d), idx_(i) {}
  const Document* doc_ = nullptr;
  uint64_t idx_ = 0;
};

struct Value::Member {
  std::string_view key;
  Value value;
};

class Document {
 public:
  Value root() const { return nodes_.empty() ? Value() : Value(this, 0); }
  Document() = default;
  Document(Document&&) noexcept = default;
  Document& operator=(Document&&) noexcept = default;
  Document(const Document&) = delete;
  Document& operator=(const Document&) = delete;
  // Index of the node after the subtree at i (used by iterators).
  uint64_t next(uint64_t i) const {
    const Node& nd = nodes_[i];
    return (nd.type() == Type::Array || nd.type() == Type::Object) ? nd.a : i + 1;
  }

 private:
  friend class Value;
  friend class Parser;
  // String/Number: a = arena offset, n = length.  Array/Object: a = index one
  // past the subtree (skip pointer), n = element/member count; object members
  // are stored as key (String) node followed by the value's subtree.
  // 8 bytes: the type lives in the low 3 bits of tn, n in the high 29 bits.
  struct Node {
    uint32_t a;
    uint32_t tn;
    Type type() const { return Type(tn & 7u); }
    uint32_t n() const { return tn >> 3; }
  };
  static_assert(sizeof(Node) == 8, "tape node must stay 8 bytes");
  std::vector<Node> nodes_;
  std::unique_ptr<char[]> arena_;
  uint64_t arena_len_ = 0;
};

class Value::ElemRange {
 public:
  class It {
   public:
    Value operator*() const { return Value(doc_, i_); }
    It& operator++() { i_ = doc_->next(i_); return *this; }
    bool operator!=(const It& o) const { return i_ != o.i_; }
   private:
    friend class ElemRange;
    It(const Document* d, uint64_t i) : doc_(d), i_(i) {}
    const Document* doc_;
    uint64_t i_;
  };
  It begin() const { return It(doc_, first_); }
  It end() const { return It(doc_, end_); }
 private:
  friend class Value;
  ElemRange(const Document* d, uint64_t f, uint64_t e) : doc_(d), first_(f), end_(e) {}
  const Document* doc_;
  uint64_t first_, end_;
};

class Value::MemberRange {
 public:
  class It {
   public:
    Member operator*() const;
    It& operator++() { i_ = doc_->next(i_ + 1); return *this; }
    bool operator!=(const It& o) const { return i_ != o.i_; }
   private:
    friend class MemberRange;
    It(const Document* d, uint64_t i) : doc_(d), i_(i) {}
    const Document* doc_;
    uint64_t i_;  // index of the key node
  };
  It begin() const { return It(doc_, first_); }
  It end() const { return It(doc_, end_); }
 private:
  friend class Value;
  MemberRange(const Document* d, uint64_t f, uint64_t e) : doc_(d), first_(f), end_(e) {}
  const Document* doc_;
  uint64_t first_, end_;
};

struct ParseResult {
  bool ok = false;
  Document doc;              // valid when ok
  ErrorKind kind = ErrorKind::None;
  uint64_t offset = 0;       // byte offset of the error in the input
  std::string message;       // e.g. "duplicate key \"a\"" (no position in it)
};

// Parses data[0, len). data need not be NUL-terminated. Never throws except
// std::bad_alloc.
ParseResult parse(const char* data, uint64_t len, const ParseOptions& opts = {});

// Validates UTF-8 (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
// Returns true if valid; otherwise false and, if bad_offset is not null,
// *bad_offset = offset of the first bad byte.
bool valid_utf8(uint64_t* bad_offset, const uint8_t* s, uint64_t len);

// Appends s as a JSON string literal (with quotes) to out. Escapes '"', '\\'
// and control characters; other bytes are copied (s must be valid UTF-8).
void append_quoted(std::string* out, std::string_view s);

}  // namespace ms::json
