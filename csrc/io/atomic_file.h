// Writing a file so that nobody ever sees it half-written and no existing file is lost: the bytes
// go to a fresh temporary file beside the destination (created exclusively, never through a
// planted symlink), are made durable, and the temporary is renamed over the destination. Until
// commit() the destination is untouched; a writer destroyed without commit() removes its
// temporary. Two writers of one destination each write their own temporary, so the destination
// ends up as one complete file: the last committed.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace ple {

class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(const std::string& destination);  // throws IoError
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void write(const void* data, size_t n);  // throws IoError (e.g. ENOSPC)
  // Overwrites the first n bytes written so far (a header completed after the data it describes).
  void rewrite_start(const void* data, size_t n);
  // Flushes, makes the data durable, renames over the destination and syncs the directory.
  void commit();  // throws IoError; the destination is untouched when it does
  // Removes the temporary file, leaving the destination as it was (also done by the destructor of
  // an uncommitted writer). Nothing can be written afterwards.
  void discard();
  const std::string& temporary_path() const { return temporary_; }

 private:
  void flush_buffer();

  std::string destination_, temporary_;
  int fd_ = -1;
  bool committed_ = false;
  std::vector<char> buffer_;
};

// The directory part of a path ("" for a bare file name).
std::string parent_directory(const std::string& path);

}  // namespace ple
