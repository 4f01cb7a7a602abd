// Shared by the libFuzzer harnesses: the core opens files by path, so each input is written to a
// memfd and opened as /proc/self/fd/N (no disk I/O, no temp files left behind).
#pragma once
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace ple_fuzz {

class MemFile {
 public:
  MemFile() : fd_(static_cast<int>(::memfd_create("ple_fuzz", MFD_CLOEXEC))) {
    if (fd_ < 0) { std::perror("memfd_create"); std::abort(); }
  }
  ~MemFile() { ::close(fd_); }
  // Replaces the contents; the previous mapping must be gone (the caller's objects destroyed).
  std::string set(const uint8_t* data, size_t size) {
    if (::ftruncate(fd_, 0) != 0 || ::ftruncate(fd_, static_cast<off_t>(size)) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    return "/proc/self/fd/" + std::to_string(fd_);
  }

 private:
  int fd_;
};

}  // namespace ple_fuzz
