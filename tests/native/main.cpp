#include <cstring>
#include <exception>

#include "check.h"

namespace ple_test {

std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

static int g_failures_in_case = 0;

void record_failure(const char* file, int line, const std::string& what) {
  if (g_failures_in_case < 20) std::fprintf(stderr, "  %s:%d: %s\n", file, line, what.c_str());
  ++g_failures_in_case;
}

}  // namespace ple_test

// Usage: ple_native_tests [substring]  — runs the cases whose name contains the substring.
int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const auto& c : ple_test::registry()) {
    if (filter && !std::strstr(c.name, filter)) continue;
    ple_test::g_failures_in_case = 0;
    try {
      c.body();
    } catch (const std::exception& e) {
      ple_test::record_failure(__FILE__, __LINE__, std::string("uncaught exception: ") + e.what());
    }
    if (ple_test::g_failures_in_case == 0) {
      ++passed;
    } else {
      ++failed;
      std::fprintf(stderr, "FAIL %s (%d failed checks)\n", c.name, ple_test::g_failures_in_case);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return (failed == 0 && passed > 0) ? 0 : 1;
}
