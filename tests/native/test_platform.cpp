// The OS-facing pieces whose logic is shared by every platform: available memory from /proc/meminfo
// text or Mach VM page counts, the default thread count from CPU counts, file times, durable
// atomic writes. The macOS branches themselves are compiled by the macOS cross build in CI.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "core/cpu_count.h"
#include "core/error.h"
#include "core/memory_info.h"
#include "io/atomic_file.h"
#include "io/file_sync.h"
#include "io/file_time.h"

namespace {

std::string temp_dir() {
  char path[] = "/tmp/ple_platform_XXXXXX";
  if (::mkdtemp(path) == nullptr) std::abort();
  return path;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

int count_entries(const std::string& dir) {
  int n = 0;
  const std::string cmd = "ls -A '" + dir + "' | wc -l";
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    if (std::fscanf(p, "%d", &n) != 1) n = -1;
    ::pclose(p);
  }
  return n;
}

}  // namespace

TEST(meminfo_available_is_read_from_its_line) {
  const std::string text = "MemTotal:       24000000 kB\nMemFree:         1000000 kB\nMemAvailable:    2000000 kB\n";
  CHECK(ple::meminfo_available_bytes(text) == 2000000ull * 1024);
  CHECK(ple::meminfo_available_bytes("MemTotal: 5 kB\n") == 0);  // old kernels: caller falls back
  CHECK(ple::meminfo_available_bytes("") == 0);
}

TEST(vm_available_counts_free_inactive_and_purgeable_pages) {
  ple::VmPageCounts pages;
  pages.free = 1000;
  pages.inactive = 250;
  pages.purgeable = 6;
  CHECK(ple::vm_available_bytes(pages, 16384) == 1256ull * 16384);  // Apple silicon: 16 KiB pages
  CHECK(ple::vm_available_bytes(pages, 4096) == 1256ull * 4096);    // Intel Macs: 4 KiB
  pages.free = std::numeric_limits<uint64_t>::max() - 1;
  CHECK(ple::vm_available_bytes(pages, 4096) == std::numeric_limits<uint64_t>::max());  // saturates
}

TEST(available_memory_is_known_on_this_os) {
  const uint64_t bytes = ple::available_memory_bytes();
  CHECK(bytes > (uint64_t{16} << 20));  // any machine running the tests has 16 MiB free
}

TEST(default_threads_are_performance_cores_then_physical_then_logical) {
  ple::CpuCounts apple_m2_pro{12, 12, 8};  // 8 P-cores + 4 E-cores
  CHECK(ple::default_thread_count_for(apple_m2_pro) == 8);
  ple::CpuCounts smt_laptop{16, 8, 0};
  CHECK(ple::default_thread_count_for(smt_laptop) == 8);
  ple::CpuCounts pi5{4, 4, 0};
  CHECK(ple::default_thread_count_for(pi5) == 4);
  ple::CpuCounts cgroup_limited{2, 8, 0};  // hardware_concurrency already shows the limit
  CHECK(ple::default_thread_count_for(cgroup_limited) == 2);
  ple::CpuCounts unknown{0, 0, 0};
  CHECK(ple::default_thread_count_for(unknown) == 1);
  ple::CpuCounts this_machine = ple::cpu_counts();
  CHECK(this_machine.logical >= 1);
  CHECK(ple::default_thread_count() >= 1 && ple::default_thread_count() <= this_machine.logical);
}

TEST(cpuinfo_counts_distinct_cores_across_sockets) {
  const std::string two_sockets_smt =
      "processor\t: 0\nphysical id\t: 0\ncore id\t\t: 0\n\nprocessor\t: 1\nphysical id\t: 0\ncore id\t\t: 0\n\n"
      "processor\t: 2\nphysical id\t: 1\ncore id\t\t: 0\n\nprocessor\t: 3\nphysical id\t: 1\ncore id\t\t: 1\n";
  CHECK(ple::physical_cores_in_cpuinfo(two_sockets_smt) == 3);
  CHECK(ple::physical_cores_in_cpuinfo("processor\t: 0\nBogoMIPS\t: 108.00\n") == 0);  // ARM: no core ids
}

TEST(file_time_reads_the_modification_time) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/f";
  { std::ofstream(path) << "x"; }
  struct timespec times[2] = {{1700000000, 123456789}, {1700000000, 123456789}};
  CHECK(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  struct stat st {};
  CHECK(::stat(path.c_str(), &st) == 0);
  const ple::FileTime t = ple::modification_time(st);
  CHECK(t.sec == 1700000000 && t.nsec == 123456789);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(durable_sync_flushes_a_file_and_refuses_a_bad_descriptor) {
  const std::string dir = temp_dir();
  const int fd = ::open((dir + "/f").c_str(), O_WRONLY | O_CREAT, 0600);
  CHECK(fd >= 0 && ::write(fd, "abc", 3) == 3);
  CHECK(ple::durable_sync(fd));
  ::close(fd);
  CHECK(!ple::durable_sync(-1));
  ple::sync_directory(dir);  // best effort, must not throw
  ::unlink((dir + "/f").c_str());
  ::rmdir(dir.c_str());
}

TEST(atomic_writer_replaces_only_on_commit_and_leaves_no_temporary) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/out.bin";
  { std::ofstream(path) << "old contents"; }
  {
    ple::AtomicFileWriter w(path);
    w.write("new", 3);
    CHECK(read_all(path) == "old contents");  // untouched until commit
  }  // destroyed without commit: the temporary goes, the old file stays
  CHECK(read_all(path) == "old contents");
  CHECK(count_entries(dir) == 1);
  {
    ple::AtomicFileWriter w(path);
    std::string big(3u << 20, 'z');  // more than the writer's buffer
    w.write("new", 3);
    w.write(big.data(), big.size());
    w.commit();
    CHECK_THROWS(w.write("x", 1), ple::IoError);
    CHECK(read_all(path) == "new" + big);
  }
  CHECK(count_entries(dir) == 1);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(atomic_writer_never_writes_through_a_planted_symlink) {
  const std::string dir = temp_dir();
  const std::string victim = dir + "/victim", path = dir + "/session.ples";
  { std::ofstream(victim) << "precious"; }
  // Links under every name an older writer used for its temporary.
  CHECK(::symlink(victim.c_str(), (path + ".tmp").c_str()) == 0);
  CHECK(::symlink(victim.c_str(), path.c_str()) == 0);
  {
    ple::AtomicFileWriter w(path);
    w.write("data", 4);
    w.commit();
  }
  CHECK(read_all(victim) == "precious");
  struct stat st {};
  CHECK(::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode));  // the link was replaced, not followed
  CHECK(read_all(path) == "data");
  ::unlink(path.c_str());
  ::unlink((path + ".tmp").c_str());
  ::unlink(victim.c_str());
  ::rmdir(dir.c_str());
}

TEST(atomic_writers_racing_on_one_path_leave_one_whole_file) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/race.bin";
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        ple::AtomicFileWriter w(path);
        const std::string body(200000 + t, static_cast<char>('a' + t));
        w.write(body.data(), body.size());
        w.commit();
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::string result = read_all(path);
  CHECK(result.size() >= 200000 && result.size() <= 200003);
  CHECK(result.find_first_not_of(result[0]) == std::string::npos);  // one writer's bytes only
  CHECK(count_entries(dir) == 1);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(atomic_writer_reports_an_unwritable_directory) {
  CHECK_THROWS(ple::AtomicFileWriter("/nonexistent-dir-ple/x"), ple::IoError);
  const std::string dir = temp_dir();
  CHECK_THROWS(ple::AtomicFileWriter w(dir), ple::IoError);  // a directory is not a file
  ::rmdir(dir.c_str());
}
