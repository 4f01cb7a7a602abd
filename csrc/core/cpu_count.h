// How many CPUs this machine has, of which kinds, and how many threads to use by default.
#pragma once
#include <string>

namespace ple {

struct CpuCounts {
  int logical = 0;      // CPUs the OS schedules on (SMT siblings included); 0 = unknown
  int physical = 0;     // cores
  int performance = 0;  // performance cores of a hybrid CPU (Apple silicon); 0 = not hybrid or unknown
};

// Linux: physical from the distinct (physical id, core id) pairs of /proc/cpuinfo. macOS:
// sysctl hw.logicalcpu, hw.physicalcpu and hw.perflevel0.physicalcpu (Apple silicon's P-cores).
CpuCounts cpu_counts();

// Performance cores where the CPU is hybrid: a lockstep matmul split evenly over threads waits
// for its slowest thread, so an efficiency core slows every op down. Else physical cores: SMT
// siblings share a core's units and slow memory-bound decode down. Never more than the logical
// CPUs (cgroup and affinity limits show there); at least 1.
int default_thread_count_for(const CpuCounts& counts);
int default_thread_count();

// Distinct (physical id, core id) pairs in the text of /proc/cpuinfo; 0 when it lists none.
int physical_cores_in_cpuinfo(const std::string& cpuinfo_text);

}  // namespace ple
