#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/error.h"
#include "io/file_time.h"

namespace ple {

MappedFile::MappedFile(const std::string& path) : path_(path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever; it has no
  // effect on regular files, and anything else is rejected after fstat below.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    throw IoError("cannot open '" + path + "': " + std::strerror(err), err);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw IoError("cannot stat '" + path + "': " + std::strerror(err), err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw IoError("'" + path + "' is a directory, not a GGUF file", EISDIR);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw FormatError("'" + path + "' is not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ == 0) {
    ::close(fd);
    throw FormatError("'" + path + "' is empty (0 bytes), not a GGUF file");
  }
  // A 32-bit process cannot map a file beyond its address space; size_t would truncate the size.
  if (size_ > static_cast<uint64_t>(PTRDIFF_MAX)) {
    ::close(fd);
    throw ResourceError("'" + path + "' is " + std::to_string(size_) + " bytes, more than a " +
                        std::to_string(8 * sizeof(void*)) + "-bit process can map; use a 64-bit system for this model");
  }
  void* mapped = ::mmap(nullptr, static_cast<size_t>(size_), PROT_READ, MAP_SHARED, fd, 0);
  const int err = errno;
  if (mapped == MAP_FAILED) {
    ::close(fd);
    throw IoError("cannot map '" + path + "': " + std::strerror(err), err);
  }
  data_ = static_cast<const uint8_t*>(mapped);
  fd_ = fd;  // kept for check_unchanged()
  mtime_ = modification_time(st);
  device_ = static_cast<uint64_t>(st.st_dev);
  inode_ = static_cast<uint64_t>(st.st_ino);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

void MappedFile::release(const uint8_t* p, uint64_t n) const {
  const long page_size = ::sysconf(_SC_PAGESIZE);
  if (page_size <= 0 || p < data_ || n > size_ || static_cast<uint64_t>(p - data_) > size_ - n) return;
  const uint64_t page = static_cast<uint64_t>(page_size);
  const uint64_t begin = (static_cast<uint64_t>(p - data_) + page - 1) / page * page;
  const uint64_t end = static_cast<uint64_t>(p - data_ + n) / page * page;
  if (end <= begin) return;
  uint8_t* const first = const_cast<uint8_t*>(data_) + begin;
#if defined(__APPLE__)
  // macOS treats MADV_DONTNEED as a hint that keeps the pages resident; msync(MS_INVALIDATE)
  // drops them from this read-only shared mapping (nothing is dirty, so nothing is written).
  ::msync(first, end - begin, MS_INVALIDATE);
#else
  ::madvise(first, end - begin, MADV_DONTNEED);  // advisory
#endif
}

bool MappedFile::read_at(uint64_t offset, void* out, uint64_t n) const {
  if (offset > size_ || n > size_ - offset) return false;
  auto* p = static_cast<uint8_t*>(out);
  while (n > 0) {
    const ssize_t k = ::pread(fd_, p, static_cast<size_t>(n), static_cast<off_t>(offset));
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    offset += static_cast<uint64_t>(k);
    n -= static_cast<uint64_t>(k);
  }
  return true;
}

void MappedFile::check_unchanged() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    throw IoError("cannot stat the mapped file '" + path_ + "': " + std::strerror(err), err);
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size != size_ || modification_time(st) != mtime_) {
    throw IoError("the mapped file '" + path_ + "' was modified on disk after it was loaded (size " +
                  std::to_string(size_) + " -> " + std::to_string(size) +
                  " bytes); its mapped contents can no longer be trusted: load it again", ESTALE);
  }
}

}  // namespace ple
