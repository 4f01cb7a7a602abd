// MappedFile: a file truncated or rewritten after mapping is reported by check_unchanged() as an
// IoError (ESTALE) before anything reads the lost pages; a rename over the path is harmless.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "check.h"
#include "core/error.h"
#include "io/mapped_file.h"

namespace {

std::string temp_file(const char* tag, size_t size) {
  char path[] = "/tmp/ple_mapped_XXXXXX";
  const int fd = ::mkstemp(path);
  std::string data(size, 'x');
  data.replace(0, std::string(tag).size(), tag);
  if (fd < 0 || ::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) std::abort();
  ::close(fd);
  return path;
}

}  // namespace

TEST(mapped_file_unchanged_passes_check) {
  const std::string p = temp_file("a", 8192);
  ple::MappedFile f(p);
  f.check_unchanged();
  CHECK(f.size() == 8192 && f.data()[0] == 'a');
  ::unlink(p.c_str());
}

TEST(mapped_file_truncated_after_mapping_is_detected) {
  const std::string p = temp_file("b", 3 * 4096);
  ple::MappedFile f(p);
  CHECK(::truncate(p.c_str(), 100) == 0);
  int err = 0;
  try {
    f.check_unchanged();
  } catch (const ple::IoError& e) {
    err = e.errno_value();
  }
  CHECK(err == ESTALE);
  ::unlink(p.c_str());
}

TEST(mapped_file_replaced_by_rename_keeps_old_contents) {
  const std::string p = temp_file("c", 4096), q = temp_file("d", 100);
  ple::MappedFile f(p);
  CHECK(std::rename(q.c_str(), p.c_str()) == 0);
  f.check_unchanged();  // the mapped inode is the old one, untouched
  CHECK(f.data()[0] == 'c' && f.size() == 4096);
  ::unlink(p.c_str());
}
