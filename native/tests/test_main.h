// Minimal test harness for the native core: TEST(name) { CHECK(...); }
// Each test binary prints "N passed, N failed" and exits non-zero on failure.
#pragma once
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace mstest {
struct Case { const char* name; std::function<void()> fn; };
inline std::vector<Case>& registry() { static std::vector<Case> r; return r; }
inline int& failures_in_case() { static int f = 0; return f; }
struct Registrar { Registrar(const char* n, std::function<void()> f) { registry().push_back({n, std::move(f)}); } };
}  // namespace mstest

#define TEST(name) \
  static void name(); \
  static mstest::Registrar name##_registrar(#name, name); \
  static void name()

#define CHECK(cond) do { if (!(cond)) { \
  std::fprintf(stderr, "  CHECK failed %s:%d: %s\n", __FILE__, __LINE__, #cond); \
  ++mstest::failures_in_case(); } } while (0)

#define CHECK_EQ(a, b) do { auto _a = (a); auto _b = (b); if (!(_a == _b)) { \
  std::fprintf(stderr, "  CHECK_EQ failed %s:%d: %s != %s (%s vs %s)\n", __FILE__, __LINE__, #a, #b, \
    std::to_string(_a).c_str(), std::to_string(_b).c_str()); ++mstest::failures_in_case(); } } while (0)

// Expects `stmt` to throw ms::MergeError with the given code.
#define CHECK_THROWS_CODE(stmt, expected_code) do { bool _thrown = false; \
  try { stmt; } catch (const ms::MergeError& _e) { _thrown = true; \
    if (_e.code() != ms::ErrorCode::expected_code) { \
      std::fprintf(stderr, "  %s:%d: expected %s, got %s: %s\n", __FILE__, __LINE__, #expected_code, _e.code_name(), _e.what()); \
      ++mstest::failures_in_case(); } } \
  if (!_thrown) { std::fprintf(stderr, "  %s:%d: expected %s, nothing thrown\n", __FILE__, __LINE__, #expected_code); \
    ++mstest::failures_in_case(); } } while (0)

int main() {
  int passed = 0, failed = 0;
  for (auto& c : mstest::registry()) {
    mstest::failures_in_case() = 0;
    try { c.fn(); } catch (const std::exception& e) {
      std::fprintf(stderr, "  uncaught exception: %s\n", e.what()); ++mstest::failures_in_case(); }
    if (mstest::failures_in_case() == 0) { ++passed; } else { ++failed; std::fprintf(stderr, "FAIL %s\n", c.name); }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
