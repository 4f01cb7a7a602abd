#include "io/file_sync.h"

#include <fcntl.h>
#include <unistd.h>

namespace ple {

bool durable_sync(int fd) {
#if defined(__APPLE__) && defined(F_FULLFSYNC)
  if (::fcntl(fd, F_FULLFSYNC) == 0) return true;
#endif
  return ::fsync(fd) == 0;
}

void sync_directory(const std::string& directory) {
  const int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (fd < 0) return;
  (void)durable_sync(fd);
  ::close(fd);
}

}  // namespace ple
