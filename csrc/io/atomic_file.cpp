#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

#include "core/error.h"
#include "io/file_sync.h"

namespace ple {
namespace {

constexpr size_t kBufferBytes = size_t{1} << 20;

std::string random_suffix() {
  // Unpredictable, so another user cannot plant a file (or link) under the next name; O_EXCL
  // below refuses it anyway, and the name is retried.
  static std::atomic<uint64_t> counter{0};
  std::random_device device;
  const uint64_t bits = (static_cast<uint64_t>(device()) << 32) ^ device() ^
                        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                        (counter.fetch_add(1) << 48) ^ static_cast<uint64_t>(::getpid());
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(bits));
  return text;
}

IoError io_error(const std::string& what, const std::string& path, int err) {
  return IoError(what + " '" + path + "': " + std::strerror(err), err);
}

}  // namespace

std::string parent_directory(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

AtomicFileWriter::AtomicFileWriter(const std::string& destination) : destination_(destination) {
  if (destination.empty() || destination.back() == '/') throw IoError("cannot write to '" + destination + "': not a file name", EINVAL);
  struct stat st {};
  if (::stat(destination.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    throw IoError("cannot write to '" + destination + "': it is a directory", EISDIR);
  }
  const std::string directory = parent_directory(destination);
  const std::string base = destination.substr(directory.empty() ? 0 : directory.size() + (directory == "/" ? 0 : 1));
  for (int attempt = 0; attempt < 100; ++attempt) {
    temporary_ = (directory.empty() ? "" : (directory == "/" ? "/" : directory + "/")) + "." + base + "." + random_suffix() + ".tmp";
    fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd_ >= 0) break;
    if (errno != EEXIST) throw io_error("cannot create a temporary file for", destination, errno);
  }
  if (fd_ < 0) throw io_error("cannot create a temporary file for", destination, EEXIST);
  buffer_.reserve(kBufferBytes);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (!committed_) discard();
}

void AtomicFileWriter::discard() {
  if (committed_) return;
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (!temporary_.empty()) ::unlink(temporary_.c_str());
  temporary_.clear();
}

void AtomicFileWriter::flush_buffer() {
  size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw io_error("cannot write", temporary_, n < 0 ? errno : EIO);
    done += static_cast<size_t>(n);
  }
  buffer_.clear();
}

void AtomicFileWriter::write(const void* data, size_t n) {
  if (fd_ < 0 || committed_) throw IoError("write to '" + destination_ + "' after it was committed or discarded", EBADF);
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const size_t take = std::min(n, kBufferBytes - buffer_.size());
    buffer_.insert(buffer_.end(), p, p + take);
    p += take;
    n -= take;
    if (buffer_.size() == kBufferBytes) flush_buffer();
  }
}

void AtomicFileWriter::rewrite_start(const void* data, size_t n) {
  if (fd_ < 0 || committed_) throw IoError("write to '" + destination_ + "' after it was committed or discarded", EBADF);
  flush_buffer();
  const char* p = static_cast<const char*>(data);
  size_t done = 0;
  while (done < n) {
    const ssize_t k = ::pwrite(fd_, p + done, n - done, static_cast<off_t>(done));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) throw io_error("cannot write", temporary_, k < 0 ? errno : EIO);
    done += static_cast<size_t>(k);
  }
}

void AtomicFileWriter::commit() {
  if (fd_ < 0 || committed_) throw IoError("'" + destination_ + "' was already committed or discarded", EBADF);
  flush_buffer();
  // Durable before it gets its name: a crash must never leave a named file of unwritten blocks.
  if (!durable_sync(fd_)) throw io_error("cannot flush", temporary_, errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw io_error("cannot close", temporary_, errno);
  if (std::rename(temporary_.c_str(), destination_.c_str()) != 0) {
    throw IoError("cannot rename '" + temporary_ + "' to '" + destination_ + "': " + std::strerror(errno), errno);
  }
  committed_ = true;
  sync_directory(parent_directory(destination_));
}

}  // namespace ple
