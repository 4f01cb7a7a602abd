#include "io/layout_cache.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/checked_math.h"
#include "core/hash.h"
#include "core/thread_pool.h"
#include "io/atomic_file.h"
#include "io/file_time.h"

namespace ple {
namespace {

constexpr char kMagic[8] = {'P', 'L', 'E', 'L', 'A', 'Y', 'T', '\0'};
constexpr uint32_t kVersion = 3;
constexpr uint32_t kHeaderBytes = 64;
constexpr uint64_t kSection = 64;  // every section starts on a 64-byte boundary

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;
  uint64_t key;
  uint64_t data_bytes;
  uint32_t n_targets;
  uint32_t record_bytes;  // the model record, padded
  uint64_t checksum;      // FNV-1a of the header (this field 0), record, flags and matrix checksums
  uint8_t reserved[16];
};
static_assert(sizeof(Header) == kHeaderBytes, "layout cache header");

struct RecordHead {
  uint64_t model_size;
  int64_t model_mtime_ns;
  uint64_t model_device;
  uint64_t model_inode;
  uint32_t path_bytes;
  uint32_t reserved;
};

std::string file_stem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string ext = ".gguf";
  if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) {
    name.resize(name.size() - ext.size());
  }
  return name;
}

std::string hex(uint64_t v, int digits) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return std::string(buf + 16 - digits);
}

std::string absolute_path(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) != nullptr) return resolved;
  return path;
}

uint64_t sections_offset(uint32_t record_bytes, size_t n_targets) {
  return kHeaderBytes + record_bytes + align_up(n_targets, kSection) + align_up(8 * n_targets, kSection);
}

// Every other "<stem>-<dir hash>-<isa>-<16 hex digits>.layout" in the directory of `keep`: older
// layouts of the same model file (a changed file or kernel table gives a new key).
void remove_other_layouts(const std::string& keep) {
  const size_t slash = keep.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : keep.substr(0, slash);
  const std::string name = slash == std::string::npos ? keep : keep.substr(slash + 1);
  const size_t key_at = name.size() - std::strlen("0123456789abcdef.layout");
  const std::string prefix = name.substr(0, key_at);  // "<stem>-<dir hash>-<isa>-"
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string other = e->d_name;
    if (other != name && other.size() == name.size() && other.compare(0, prefix.size(), prefix) == 0 &&
        other.compare(key_at + 16, std::string::npos, ".layout") == 0) {
      ::unlink((dir + "/" + other).c_str());  // best effort: a cache
    }
  }
  ::closedir(d);
}

// A matrix's checksum: bulk_hash chained over pieces of kPieceBytes, so the check can read the
// file piece by piece into a small buffer that stays in cache.
constexpr uint64_t kPieceBytes = 256 << 10;

uint64_t matrix_checksum(const uint8_t* data, uint64_t n) {
  uint64_t h = 0;
  for (uint64_t at = 0; at < n; at += kPieceBytes) h = bulk_hash(data + at, std::min(kPieceBytes, n - at), h);
  return h;
}

std::vector<uint8_t> model_record(const MappedFile& model) {
  const std::string path = absolute_path(model.path());
  RecordHead head{};
  head.model_size = model.size();
  head.model_mtime_ns = model.mtime_ns();
  head.model_device = model.device();
  head.model_inode = model.inode();
  head.path_bytes = static_cast<uint32_t>(path.size());
  std::vector<uint8_t> record(align_up(sizeof head + path.size(), kSection), 0);
  std::memcpy(record.data(), &head, sizeof head);
  std::memcpy(record.data() + sizeof head, path.data(), path.size());
  return record;
}

uint64_t header_checksum(Header h, const uint8_t* sections, uint64_t sections_bytes) {
  h.checksum = 0;
  return fnv1a(sections, sections_bytes, fnv1a(&h, sizeof h));
}

// The header, when `file` starts with a version-3 layout header whose checksum holds.
bool read_header(const MappedFile& file, Header* h) {
  if (file.size() < kHeaderBytes) return false;
  std::memcpy(h, file.data(), sizeof *h);
  if (std::memcmp(h->magic, kMagic, sizeof kMagic) != 0 || h->version != kVersion || h->header_bytes != kHeaderBytes ||
      h->record_bytes % kSection != 0 || h->record_bytes < sizeof(RecordHead) || h->n_targets > (1u << 20)) {
    return false;
  }
  const uint64_t data_at = sections_offset(h->record_bytes, h->n_targets);
  if (file.size() < data_at || file.size() - data_at != h->data_bytes) return false;
  return header_checksum(*h, file.data() + kHeaderBytes, data_at - kHeaderBytes) == h->checksum;
}

}  // namespace

std::string layout_cache_path(const std::string& dir, const std::string& model_path, const char* isa, uint64_t key) {
  const std::string model_dir = parent_directory(absolute_path(model_path));
  return dir + "/" + file_stem(model_path) + "-" + hex(fnv1a(model_dir.data(), model_dir.size()), 8) + "-" + isa + "-" +
         hex(key, 16) + ".layout";
}

uint64_t layout_key(uint64_t model_fingerprint, const MappedFile& model, const char* isa,
                    const std::vector<LayoutEntry>& entries) {
  uint64_t h = fnv1a(&kVersion, sizeof kVersion);
  const uint64_t identity[5] = {model_fingerprint, model.size(), static_cast<uint64_t>(model.mtime_ns()), model.device(),
                                model.inode()};
  h = fnv1a(identity, sizeof identity, h);
  h = fnv1a(isa, std::strlen(isa) + 1, h);
  for (const LayoutEntry& t : entries) {
    const uint64_t offset = static_cast<uint64_t>(t.rows - model.data());
    const int64_t shape[5] = {static_cast<int64_t>(t.type), t.n_rows, t.cols, t.groups, static_cast<int64_t>(t.group_bytes)};
    h = fnv1a(&offset, sizeof offset, h);
    h = fnv1a(shape, sizeof shape, h);
    h = fnv1a(t.layout_name, std::strlen(t.layout_name) + 1, h);
    // A content sample: the first, middle and last 256 bytes of the matrix (a few pages per
    // matrix even when the file is cold), so equal metadata over other weights gives another key.
    // Read with pread, so the load keeps no page of the weights resident.
    const uint64_t bytes = static_cast<uint64_t>(t.n_rows) * t.row_bytes;
    const uint64_t piece = std::min<uint64_t>(256, bytes);
    uint8_t sample[256];
    for (const uint64_t at : {uint64_t{0}, (bytes - piece) / 2, bytes - piece}) {
      if (!model.read_at(offset + at, sample, piece)) std::memset(sample, 0, sizeof sample);
      h = bulk_hash(sample, piece, h);
    }
  }
  return h;
}

LayoutCacheFile open_layout_cache(const std::string& path, uint64_t key, const MappedFile& model,
                                  std::vector<LayoutEntry>& entries, int n_threads) {
  LayoutCacheFile out;
  if (::access(path.c_str(), R_OK) != 0) return out;
  std::unique_ptr<MappedFile> file;
  try {
    file = std::make_unique<MappedFile>(path);
  } catch (const std::exception&) {
    return out;  // unreadable or not a regular file: rebuilt
  }
  Header h;
  if (!read_header(*file, &h) || h.key != key || h.n_targets != entries.size()) return out;
  const std::vector<uint8_t> record = model_record(model);
  if (record.size() != h.record_bytes || std::memcmp(record.data(), file->data() + kHeaderBytes, record.size()) != 0) {
    return out;
  }
  const uint8_t* flags = file->data() + kHeaderBytes + h.record_bytes;
  const uint8_t* sums = flags + align_up(entries.size(), kSection);
  const uint8_t* data = file->data() + sections_offset(h.record_bytes, entries.size());
  std::vector<const uint8_t*> starts(entries.size(), nullptr);
  uint64_t data_bytes = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (flags[i] > 1) return out;
    if (flags[i] == 1) {
      starts[i] = data + data_bytes;
      data_bytes += static_cast<uint64_t>(entries[i].groups) * entries[i].group_bytes;
    }
  }
  if (data_bytes != h.data_bytes) return out;
  // Every matrix's bytes against its checksum, matrices dealt to threads as they free up.
  std::atomic<size_t> next{0};
  std::atomic<bool> damaged{false};
  ThreadPool pool(std::max(1, n_threads));
  pool.run([&](int, int) {
    for (size_t i = next.fetch_add(1); i < entries.size() && !damaged.load(std::memory_order_relaxed); i = next.fetch_add(1)) {
      if (starts[i] == nullptr) continue;
      uint64_t stored;
      std::memcpy(&stored, sums + 8 * i, 8);
      const uint64_t bytes = static_cast<uint64_t>(entries[i].groups) * entries[i].group_bytes;
      if (matrix_checksum(starts[i], bytes) != stored) damaged = true;
      // Read for the check only: the pages stay in the page cache but leave this process until a
      // forward pass touches them, so a load still costs address space, not resident memory.
      file->release(starts[i], bytes);
    }
  });
  if (damaged) return out;
  for (size_t i = 0; i < entries.size(); ++i) entries[i].included = flags[i] == 1;
  out.file = std::move(file);
  out.data = data;
  return out;
}

bool write_layout_cache(const std::string& path, uint64_t key, const MappedFile& model,
                        const std::vector<LayoutEntry>& entries,
                        const std::function<void(size_t entry, uint8_t* out)>& pack,
                        const std::function<void(size_t entry)>& written) {
  try {
    std::vector<uint8_t> flags(align_up(entries.size(), kSection), 0), sums(align_up(8 * entries.size(), kSection), 0);
    Header h{};
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.version = kVersion;
    h.header_bytes = kHeaderBytes;
    h.key = key;
    h.n_targets = static_cast<uint32_t>(entries.size());
    const std::vector<uint8_t> record = model_record(model);
    h.record_bytes = static_cast<uint32_t>(record.size());
    AtomicFileWriter out(path);
    std::vector<uint8_t> buffer;
    for (size_t i = 0; i < entries.size(); ++i) {
      const LayoutEntry& t = entries[i];
      if (!t.included) continue;
      flags[i] = 1;
      h.data_bytes += static_cast<uint64_t>(t.groups) * t.group_bytes;
    }
    // The checksums precede the data but are known only once each matrix is packed: the
    // data goes first, after a placeholder for the sections before it, which is written last.
    const uint64_t data_at = sections_offset(h.record_bytes, entries.size());
    std::vector<uint8_t> head_region(data_at, 0);
    out.write(head_region.data(), head_region.size());
    for (size_t i = 0; i < entries.size(); ++i) {
      const LayoutEntry& t = entries[i];
      if (!t.included) continue;
      buffer.resize(static_cast<size_t>(t.groups) * t.group_bytes);
      pack(i, buffer.data());
      const uint64_t sum = matrix_checksum(buffer.data(), buffer.size());
      std::memcpy(sums.data() + 8 * i, &sum, 8);
      out.write(buffer.data(), buffer.size());
      written(i);
    }
    std::memcpy(head_region.data() + kHeaderBytes, record.data(), record.size());
    std::memcpy(head_region.data() + kHeaderBytes + record.size(), flags.data(), flags.size());
    std::memcpy(head_region.data() + kHeaderBytes + record.size() + flags.size(), sums.data(), sums.size());
    h.checksum = header_checksum(h, head_region.data() + kHeaderBytes, data_at - kHeaderBytes);
    std::memcpy(head_region.data(), &h, sizeof h);
    out.rewrite_start(head_region.data(), head_region.size());
    out.commit();
  } catch (const std::exception&) {
    return false;  // a cache: the caller falls back to memory
  }
  remove_other_layouts(path);
  return true;
}

LayoutCacheInfo read_layout_cache_info(const std::string& path) {
  LayoutCacheInfo info;
  std::unique_ptr<MappedFile> file;
  try {
    file = std::make_unique<MappedFile>(path);
  } catch (const std::exception&) {
    return info;
  }
  Header h;
  if (!read_header(*file, &h)) return info;
  RecordHead head;
  std::memcpy(&head, file->data() + kHeaderBytes, sizeof head);
  if (head.path_bytes > h.record_bytes - sizeof head) return info;
  info.readable = true;
  info.model_path.assign(reinterpret_cast<const char*>(file->data() + kHeaderBytes + sizeof head), head.path_bytes);
  info.model_size = head.model_size;
  info.model_mtime_ns = head.model_mtime_ns;
  info.model_device = head.model_device;
  info.model_inode = head.model_inode;
  info.data_bytes = h.data_bytes;
  struct stat st {};
  if (::stat(info.model_path.c_str(), &st) == 0) {
    const FileTime t = modification_time(st);
    info.model_present = static_cast<uint64_t>(st.st_size) == head.model_size &&
                         t.sec * 1000000000 + t.nsec == head.model_mtime_ns &&
                         static_cast<uint64_t>(st.st_dev) == head.model_device &&
                         static_cast<uint64_t>(st.st_ino) == head.model_inode;
  }
  return info;
}

}  // namespace ple
