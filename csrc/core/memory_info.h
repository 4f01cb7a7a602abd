// How much memory the process can still take without swapping.
#pragma once
#include <cstdint>

namespace ple {

// MemAvailable of /proc/meminfo, else free physical pages; 0 when unknown (callers then skip
// their check).
uint64_t available_memory_bytes();

}  // namespace ple
