// Making written bytes durable, the way each OS means it.
#pragma once
#include <string>

namespace ple {

// Flushes fd's data to stable storage. On macOS fsync() only hands the data to the drive, whose
// cache may still lose it on power loss; fcntl(F_FULLFSYNC) asks the drive to flush too. Where a
// file system refuses F_FULLFSYNC (network and some external volumes) it falls back to fsync().
// Returns false with errno set on failure.
bool durable_sync(int fd);

// Makes a rename inside `directory` durable (fsync of the directory). Best effort: some file
// systems cannot open or sync directories, and the renamed file's data is durable already.
void sync_directory(const std::string& directory);

}  // namespace ple
