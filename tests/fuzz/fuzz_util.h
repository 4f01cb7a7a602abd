// Shared by the libFuzzer harnesses: the core opens files by path, so each input is written to a
// memfd and opened as /proc/self/fd/N on Linux (no disk I/O, no temp files left behind); elsewhere
// (macOS) to one temporary file, removed when the harness ends.
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
#if defined(__linux__)
  MemFile() : fd_(static_cast<int>(::memfd_create("ple_fuzz", MFD_CLOEXEC))), path_("/proc/self/fd/" + std::to_string(fd_)) {
    if (fd_ < 0) { std::perror("memfd_create"); std::abort(); }
  }
  ~MemFile() { ::close(fd_); }
#else
  MemFile() {
    const char* dir = std::getenv("TMPDIR");
    std::string templ = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/ple_fuzz_XXXXXX";
    fd_ = ::mkstemp(&templ[0]);
    if (fd_ < 0) { std::perror("mkstemp"); std::abort(); }
    path_ = templ;
  }
  ~MemFile() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
#endif
  // Replaces the contents; the previous mapping must be gone (the caller's objects destroyed).
  std::string set(const uint8_t* data, size_t size) {
    if (::ftruncate(fd_, 0) != 0 || ::ftruncate(fd_, static_cast<off_t>(size)) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    return path_;
  }

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace ple_fuzz
