// A minimal test harness for the native (Python-free) test binary: TEST(name) registers a case,
// CHECK(cond) records a failure with file:line and keeps going. Runs under qemu and sanitizers.
#pragma once
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace ple_test {

struct Case {
  const char* name;
  std::function<void()> body;
};
std::vector<Case>& registry();
void record_failure(const char* file, int line, const std::string& what);

struct Registrar {
  Registrar(const char* name, std::function<void()> body) { registry().push_back({name, std::move(body)}); }
};

}  // namespace ple_test

#define PLE_TEST_CONCAT2(a, b) a##b
#define PLE_TEST_CONCAT(a, b) PLE_TEST_CONCAT2(a, b)
#define TEST(name)                                                                     \
  static void name();                                                                  \
  static ::ple_test::Registrar PLE_TEST_CONCAT(registrar_, name)(#name, &name);        \
  static void name()
#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) ::ple_test::record_failure(__FILE__, __LINE__, "CHECK(" #cond ")");   \
  } while (0)
#define CHECK_MSG(cond, msg)                                                           \
  do {                                                                                 \
    if (!(cond)) ::ple_test::record_failure(__FILE__, __LINE__, std::string(msg));     \
  } while (0)
#define CHECK_THROWS(expr, ExceptionType)                                              \
  do {                                                                                 \
    bool ple_thrown = false;                                                           \
    try {                                                                              \
      expr;                                                                            \
    } catch (const ExceptionType&) {                                                   \
      ple_thrown = true;                                                               \
    }                                                                                  \
    if (!ple_thrown) ::ple_test::record_failure(__FILE__, __LINE__, "expected " #ExceptionType " from " #expr); \
  } while (0)
