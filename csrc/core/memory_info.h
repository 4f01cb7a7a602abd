// How much memory the process can still take without swapping.
#pragma once
#include <cstdint>
#include <string>

namespace ple {

// Linux: MemAvailable of /proc/meminfo. macOS: the Mach VM statistics (free + inactive +
// purgeable pages: what the kernel hands out without paging anything to swap). Else free
// physical pages; 0 when unknown (callers then skip their check).
uint64_t available_memory_bytes();

// The pieces of the above that do not need the OS, so they are tested on every platform.
// MemAvailable in bytes from the text of /proc/meminfo; 0 when absent.
uint64_t meminfo_available_bytes(const std::string& meminfo_text);
struct VmPageCounts {
  uint64_t free = 0, inactive = 0, purgeable = 0;
};
// Saturates instead of overflowing.
uint64_t vm_available_bytes(const VmPageCounts& pages, uint64_t page_size);

}  // namespace ple
