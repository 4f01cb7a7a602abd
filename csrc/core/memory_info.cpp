#include "core/memory_info.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#if defined(__APPLE__)
#include <mach/mach.h>
#endif

namespace ple {

uint64_t meminfo_available_bytes(const std::string& meminfo_text) {
  std::istringstream lines(meminfo_text);
  std::string line;
  while (std::getline(lines, line)) {
    unsigned long long kib = 0;
    if (std::sscanf(line.c_str(), "MemAvailable: %llu kB", &kib) == 1) {
      return kib > std::numeric_limits<uint64_t>::max() / 1024 ? std::numeric_limits<uint64_t>::max() : kib * 1024;
    }
  }
  return 0;
}

uint64_t vm_available_bytes(const VmPageCounts& pages, uint64_t page_size) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t total = 0;
  for (const uint64_t n : {pages.free, pages.inactive, pages.purgeable}) {
    if (n > kMax - total) return kMax;
    total += n;
  }
  if (page_size != 0 && total > kMax / page_size) return kMax;
  return total * page_size;
}

uint64_t available_memory_bytes() {
#if defined(__APPLE__)
  vm_statistics64_data_t stats{};
  mach_msg_type_number_t count = HOST_VM_INFO64_COUNT;
  vm_size_t page_size = 0;
  const mach_port_t host = mach_host_self();
  if (host_page_size(host, &page_size) == KERN_SUCCESS &&
      host_statistics64(host, HOST_VM_INFO64, reinterpret_cast<host_info64_t>(&stats), &count) == KERN_SUCCESS) {
    VmPageCounts pages;
    pages.free = stats.free_count;
    pages.inactive = stats.inactive_count;
    pages.purgeable = stats.purgeable_count;
    mach_port_deallocate(mach_task_self(), host);
    return vm_available_bytes(pages, page_size);
  }
  mach_port_deallocate(mach_task_self(), host);
  return 0;
#else
  {
    std::ifstream meminfo("/proc/meminfo");
    if (meminfo) {
      std::ostringstream text;
      text << meminfo.rdbuf();
      const uint64_t available = meminfo_available_bytes(text.str());
      if (available != 0) return available;
    }
  }
#if defined(_SC_AVPHYS_PAGES)
  const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
#else
  return 0;
#endif
#endif
}

}  // namespace ple
