#include "core/cpu_count.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#if defined(__APPLE__)
#include <sys/sysctl.h>
#include <sys/types.h>
#endif

namespace ple {
namespace {

#if defined(__APPLE__)
int sysctl_int(const char* name) {
  int value = 0;
  size_t size = sizeof value;
  return ::sysctlbyname(name, &value, &size, nullptr, 0) == 0 && value > 0 ? value : 0;
}
#endif

}  // namespace

int physical_cores_in_cpuinfo(const std::string& cpuinfo_text) {
  std::istringstream lines(cpuinfo_text);
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, physical = "0";
  while (std::getline(lines, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (line.rfind("physical id", 0) == 0) physical = line.substr(colon + 1);
    if (line.rfind("core id", 0) == 0) cores.emplace(physical, line.substr(colon + 1));
  }
  return static_cast<int>(cores.size());
}

CpuCounts cpu_counts() {
  CpuCounts counts;
  counts.logical = static_cast<int>(std::thread::hardware_concurrency());
#if defined(__APPLE__)
  if (const int logical = sysctl_int("hw.logicalcpu")) counts.logical = logical;
  counts.physical = sysctl_int("hw.physicalcpu");
  // Present on Apple silicon (perflevel0 = the fastest cores); absent on Intel Macs.
  if (sysctl_int("hw.nperflevels") > 1) counts.performance = sysctl_int("hw.perflevel0.physicalcpu");
#else
  std::ifstream cpuinfo("/proc/cpuinfo");
  if (cpuinfo) {
    std::ostringstream text;
    text << cpuinfo.rdbuf();
    counts.physical = physical_cores_in_cpuinfo(text.str());
  }
#endif
  return counts;
}

int default_thread_count_for(const CpuCounts& counts) {
  int n = counts.performance > 0 ? counts.performance : counts.physical > 0 ? counts.physical : counts.logical;
  if (counts.logical > 0) n = std::min(n, counts.logical);
  return std::max(1, n);
}

int default_thread_count() { return default_thread_count_for(cpu_counts()); }

}  // namespace ple
