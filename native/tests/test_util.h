// Helpers shared by the native test binaries (include after test_main.h).
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

#include "errors.h"
#include "test_main.h"

namespace mstest {

// Expects fn to throw MergeError with `code` and a message containing every
// needle (the file label, and the tensor name where relevant).
template <class F, class... S>
void expect_err(int line, F&& fn, ms::ErrorCode code, const S&... needles) {
  try {
    fn();
  } catch (const ms::MergeError& e) {
    const std::string msg = e.what();
    if (e.code() != code) {
      std::fprintf(stderr, "  line %d: expected %s, got %s: %s\n", line, ms::error_code_name(code), e.code_name(),
                   msg.c_str());
      ++failures_in_case();
      return;
    }
    for (const std::string& n : {std::string(needles)...}) {
      if (msg.find(n) == std::string::npos) {
        std::fprintf(stderr, "  line %d: %s message lacks \"%s\": %s\n", line, e.code_name(), n.c_str(), msg.c_str());
        ++failures_in_case();
      }
    }
    return;
  }
  std::fprintf(stderr, "  line %d: expected %s, nothing thrown\n", line, ms::error_code_name(code));
  ++failures_in_case();
}

inline std::string le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = char(uint8_t(n >> (8 * i)));
  return s;
}

// A safetensors file image whose declared header length is header.size().
inline std::string st_file(const std::string& header, const std::string& data) { return le64(header.size()) + header + data; }

}  // namespace mstest

#define EXPECT_ERR(stmt, code, ...) mstest::expect_err(__LINE__, [&] { stmt; }, ms::ErrorCode::code, __VA_ARGS__)
