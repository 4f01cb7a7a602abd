// The modification time in a struct stat, whose field is spelled differently per OS.
#pragma once
#include <sys/stat.h>

#include <cstdint>

namespace ple {

struct FileTime {
  int64_t sec = 0;
  int64_t nsec = 0;
  bool operator==(const FileTime& o) const { return sec == o.sec && nsec == o.nsec; }
  bool operator!=(const FileTime& o) const { return !(*this == o); }
};

inline FileTime modification_time(const struct stat& st) {
#if defined(__APPLE__)
  return {static_cast<int64_t>(st.st_mtimespec.tv_sec), static_cast<int64_t>(st.st_mtimespec.tv_nsec)};
#else
  return {static_cast<int64_t>(st.st_mtim.tv_sec), static_cast<int64_t>(st.st_mtim.tv_nsec)};
#endif
}

}  // namespace ple
