#include "model/layout_cache.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/hash.h"
#include "ops/ops.h"

namespace ple {
namespace {

constexpr char kMagic[8] = {'P', 'L', 'E', 'L', 'A', 'Y', 'T', '\0'};
constexpr uint32_t kVersion = 2;
constexpr uint32_t kHeaderBytes = 64;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;
  uint64_t key;
  uint64_t data_bytes;
  uint32_t n_targets;
  uint8_t reserved[28];
};
static_assert(sizeof(Header) == kHeaderBytes, "layout cache header");

std::string file_stem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string ext = ".gguf";
  if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) {
    name.resize(name.size() - ext.size());
  }
  return name;
}

std::string hex16(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// Every other "<stem>-<isa>-<16 hex digits>.layout" in the directory of `keep`: older layouts of
// the same model file name (a changed file or kernel table gives a new key).
void remove_other_layouts(const std::string& keep) {
  const size_t slash = keep.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : keep.substr(0, slash);
  const std::string name = slash == std::string::npos ? keep : keep.substr(slash + 1);
  const size_t key_at = name.size() - std::strlen("0123456789abcdef.layout");
  const std::string prefix = name.substr(0, key_at);  // "<stem>-<isa>-"
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

}  // namespace

std::string layout_cache_path(const std::string& dir, const std::string& model_path, const char* isa, uint64_t key) {
  return dir + "/" + file_stem(model_path) + "-" + isa + "-" + hex16(key) + ".layout";
}

uint64_t layout_key(uint64_t model_fingerprint, const MappedFile& model, const char* isa,
                    const std::vector<LayoutTarget>& targets) {
  uint64_t h = fnv1a(&kVersion, sizeof kVersion);
  const uint64_t size = model.size();
  const int64_t mtime = model.mtime_ns();
  h = fnv1a(&model_fingerprint, sizeof model_fingerprint, h);
  h = fnv1a(&size, sizeof size, h);
  h = fnv1a(&mtime, sizeof mtime, h);
  h = fnv1a(isa, std::strlen(isa) + 1, h);
  for (const LayoutTarget& t : targets) {
    const uint64_t offset = static_cast<uint64_t>(t.matrix->data - model.data());
    const int64_t shape[5] = {static_cast<int64_t>(t.matrix->type), t.matrix->rows, t.matrix->cols, t.groups,
                              static_cast<int64_t>(t.group_bytes)};
    h = fnv1a(&offset, sizeof offset, h);
    h = fnv1a(shape, sizeof shape, h);
    h = fnv1a(t.kernels->name, std::strlen(t.kernels->name) + 1, h);
  }
  return h;
}

uint64_t layout_cache_data_offset(size_t n_targets) { return kHeaderBytes + (n_targets + 63) / 64 * 64; }

std::unique_ptr<MappedFile> open_layout_cache(const std::string& path, uint64_t key, std::vector<LayoutTarget>& targets) {
  if (::access(path.c_str(), R_OK) != 0) return nullptr;
  std::unique_ptr<MappedFile> file;
  try {
    file = std::make_unique<MappedFile>(path);
  } catch (const std::exception&) {
    return nullptr;  // unreadable or not a regular file: rebuilt
  }
  const uint64_t data_at = layout_cache_data_offset(targets.size());
  if (file->size() < data_at) return nullptr;
  Header h;
  std::memcpy(&h, file->data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0 || h.version != kVersion || h.header_bytes != kHeaderBytes ||
      h.key != key || h.n_targets != targets.size() || file->size() - data_at != h.data_bytes) {
    return nullptr;
  }
  const uint8_t* flags = file->data() + kHeaderBytes;
  uint64_t data_bytes = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (flags[i] > 1) return nullptr;
    if (flags[i] == 1) data_bytes += static_cast<uint64_t>(targets[i].groups) * targets[i].group_bytes;
  }
  if (data_bytes != h.data_bytes) return nullptr;
  for (size_t i = 0; i < targets.size(); ++i) targets[i].included = flags[i] == 1;
  return file;
}

bool write_layout_cache(const std::string& path, uint64_t key, const std::vector<LayoutTarget>& targets,
                        const std::function<void(const LayoutTarget&)>& written) {
  const std::string tmp = path + ".tmp" + std::to_string(::getpid());
  ::unlink(tmp.c_str());  // left by a process of the same id that died while writing
  std::FILE* f = std::fopen(tmp.c_str(), "wbx");
  if (f == nullptr) return false;
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kVersion;
  h.header_bytes = kHeaderBytes;
  h.key = key;
  h.n_targets = static_cast<uint32_t>(targets.size());
  std::vector<uint8_t> flags(layout_cache_data_offset(targets.size()) - kHeaderBytes, 0);
  for (size_t i = 0; i < targets.size(); ++i) {
    flags[i] = targets[i].included ? 1 : 0;
    if (targets[i].included) h.data_bytes += static_cast<uint64_t>(targets[i].groups) * targets[i].group_bytes;
  }
  bool ok = std::fwrite(&h, sizeof h, 1, f) == 1 && std::fwrite(flags.data(), flags.size(), 1, f) == 1;
  std::vector<uint8_t> buffer;
  for (const LayoutTarget& t : targets) {
    if (!ok) break;
    if (!t.included) continue;
    buffer.resize(static_cast<size_t>(t.groups) * t.group_bytes);
    ops::interleave_rows(*t.kernels, t.matrix->cols, t.matrix->data, t.matrix->row_bytes, t.groups, buffer.data());
    ok = buffer.empty() || std::fwrite(buffer.data(), buffer.size(), 1, f) == 1;
    written(t);
  }
  // On disk before it gets its name: a crash must not leave a named file of unwritten blocks.
  ok = ok && std::fflush(f) == 0 && ::fsync(::fileno(f)) == 0;
  ok = (std::fclose(f) == 0) && ok;
  if (ok) ok = std::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) {
    ::unlink(tmp.c_str());
    return false;
  }
  remove_other_layouts(path);
  return true;
}

}  // namespace ple
