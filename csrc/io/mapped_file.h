// Read-only memory map of a whole file (RAII). Pages are loaded by the OS on first touch, so
// opening a large model costs address space, not RAM.
//
// The descriptor stays open so that check_unchanged() can fstat the mapped inode: truncating the
// file in place makes reading the lost pages raise SIGBUS, and overwriting it changes the bytes
// under us. Replacing the file by rename (what downloads do) is harmless: the old inode stays
// mapped. Residual race: a truncation between the check and a page access still faults.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/file_time.h"

namespace ple {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // throws IoError / FormatError
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // The file's modification time when it was mapped, in nanoseconds since the epoch.
  int64_t mtime_ns() const { return mtime_.sec * 1000000000 + mtime_.nsec; }
  // The file's identity (device and inode): two copies with equal bytes and times still differ.
  uint64_t device() const { return device_; }
  uint64_t inode() const { return inode_; }
  // IoError (ESTALE) when the mapped file's size or modification time differs from when it was
  // mapped. One fstat: cheap enough to call before every forward pass.
  void check_unchanged() const;
  // Drops this process's pages of [p, p + n) (whole pages inside it only); they are read again
  // from the page cache or the file if touched later. For data copied elsewhere at load time.
  void release(const uint8_t* p, uint64_t n) const;
  // Copies [offset, offset + n) of the file into out with pread: small samples read this way do
  // not map their neighbourhood into the process (a fault through the mapping maps up to 64 KiB
  // around it). False on a read error or a range past the end.
  bool read_at(uint64_t offset, void* out, uint64_t n) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  int fd_ = -1;
  FileTime mtime_;
  uint64_t device_ = 0, inode_ = 0;
};

}  // namespace ple
