// Read-only memory map of a whole file (RAII). Pages are loaded by the OS on first touch, so
// opening a large model costs address space, not RAM.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

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

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace ple
