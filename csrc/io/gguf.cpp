#include "io/gguf.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/checked_math.h"
#include "core/error.h"
#include "core/utf8.h"

namespace ple {
namespace {

constexpr uint64_t kMaxKeyBytes = 4096;
constexpr uint64_t kMaxTensorNameBytes = 1024;
constexpr uint32_t kMaxDims = 4;
constexpr int kMaxArrayNesting = 8;
// The GGUF spec requires general.alignment to be a multiple of 8; with the mapping page-aligned,
// that keeps every tensor's data aligned for the block structs (whose fields are at most 4-byte
// types), so kernels may read them in place.
constexpr uint64_t kMinAlignment = 8;
constexpr uint64_t kMaxAlignment = 1u << 20;
// String values have no limit of their own: one longer than the rest of the file is reported as
// truncation, which is what it is.
constexpr uint64_t kNoLimit = UINT64_MAX;

std::string at_byte(uint64_t offset) { return " (at byte " + std::to_string(offset) + ")"; }

// Scalar element size of a value type; 0 for STRING/ARRAY and unknown types.
uint64_t scalar_size(GGUFValueType t) {
  switch (t) {
    case GGUFValueType::U8: case GGUFValueType::I8: case GGUFValueType::BOOL: return 1;
    case GGUFValueType::U16: case GGUFValueType::I16: return 2;
    case GGUFValueType::U32: case GGUFValueType::I32: case GGUFValueType::F32: return 4;
    case GGUFValueType::U64: case GGUFValueType::I64: case GGUFValueType::F64: return 8;
    default: return 0;
  }
}

bool valid_value_type(uint32_t raw) { return raw <= static_cast<uint32_t>(GGUFValueType::F64); }


// Bounds-checked little-endian reader over the mapped bytes. `what` names the field being read
// so that every error says what was wrong and where.
class Cursor {
 public:
  Cursor(const uint8_t* data, uint64_t size) : data_(data), size_(size) {}
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return size_ - pos_; }

  void need(uint64_t n, const std::string& what) const {
    if (n > remaining()) {
      throw FormatError("GGUF: file truncated while reading " + what + at_byte(pos_) + ": needs " +
                        std::to_string(n) + " bytes, " + std::to_string(remaining()) + " left");
    }
  }
  template <typename T>
  T read(const std::string& what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string_view read_string(const std::string& what, uint64_t max_len) {
    const uint64_t start = pos_;
    const uint64_t len = read<uint64_t>(what + " length");
    if (len > max_len) {
      throw FormatError("GGUF: " + what + " length " + std::to_string(len) + " exceeds the limit of " +
                        std::to_string(max_len) + " bytes" + at_byte(start));
    }
    need(len, what);
    std::string_view s(reinterpret_cast<const char*>(data_ + pos_), len);
    pos_ += len;
    return s;
  }
  const uint8_t* skip(uint64_t n, const std::string& what) {
    need(n, what);
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }

 private:
  const uint8_t* data_;
  uint64_t size_;
  uint64_t pos_ = 0;
};

GGUFValue read_value(Cursor& cur, GGUFValueType type, const std::string& what, int depth);

GGUFValue read_array(Cursor& cur, const std::string& what, int depth) {
  if (depth >= kMaxArrayNesting) {
    throw FormatError("GGUF: " + what + " nests arrays deeper than " + std::to_string(kMaxArrayNesting) +
                      at_byte(cur.pos()));
  }
  GGUFValue v;
  v.type = GGUFValueType::ARRAY;
  const uint64_t type_pos = cur.pos();
  const uint32_t raw_type = cur.read<uint32_t>(what + " element type");
  if (!valid_value_type(raw_type)) {
    throw FormatError("GGUF: " + what + " has invalid element type " + std::to_string(raw_type) + at_byte(type_pos));
  }
  v.element_type = static_cast<GGUFValueType>(raw_type);
  const uint64_t count_pos = cur.pos();
  v.count = cur.read<uint64_t>(what + " element count");
  // Every element takes at least this many bytes, so the count is bounded by what is left.
  const uint64_t min_element = v.element_type == GGUFValueType::STRING  ? 8
                               : v.element_type == GGUFValueType::ARRAY ? 12
                                                                        : scalar_size(v.element_type);
  if (v.count > cur.remaining() / min_element) {
    throw FormatError("GGUF: " + what + " claims " + std::to_string(v.count) + " elements, more than the " +
                      std::to_string(cur.remaining()) + " bytes left in the file can hold" + at_byte(count_pos));
  }
  if (v.element_type == GGUFValueType::STRING) {
    v.strings.reserve(v.count);
    for (uint64_t k = 0; k < v.count; ++k) v.strings.push_back(cur.read_string(what + "[" + std::to_string(k) + "]", kNoLimit));
  } else if (v.element_type == GGUFValueType::ARRAY) {
    v.items.reserve(v.count);
    for (uint64_t k = 0; k < v.count; ++k) {
      v.items.push_back(read_array(cur, what + "[" + std::to_string(k) + "]", depth + 1));
    }
  } else {
    v.elements = cur.skip(v.count * min_element, what + " elements");
    if (v.element_type == GGUFValueType::BOOL) {
      for (uint64_t k = 0; k < v.count; ++k) {
        if (v.elements[k] > 1) {
          throw FormatError("GGUF: " + what + "[" + std::to_string(k) + "] is a bool with value " +
                            std::to_string(v.elements[k]) + at_byte(cur.pos() - v.count + k));
        }
      }
    }
  }
  return v;
}

GGUFValue read_value(Cursor& cur, GGUFValueType type, const std::string& what, int depth) {
  GGUFValue v;
  v.type = type;
  const uint64_t pos = cur.pos();
  switch (type) {
    case GGUFValueType::U8: v.i = cur.read<uint8_t>(what); break;
    case GGUFValueType::I8: v.i = cur.read<int8_t>(what); break;
    case GGUFValueType::U16: v.i = cur.read<uint16_t>(what); break;
    case GGUFValueType::I16: v.i = cur.read<int16_t>(what); break;
    case GGUFValueType::U32: v.i = cur.read<uint32_t>(what); break;
    case GGUFValueType::I32: v.i = cur.read<int32_t>(what); break;
    case GGUFValueType::I64: v.i = cur.read<int64_t>(what); break;
    case GGUFValueType::U64:
      v.u = cur.read<uint64_t>(what);
      v.i = static_cast<int64_t>(v.u);
      break;
    case GGUFValueType::F32: v.f = cur.read<float>(what); break;
    case GGUFValueType::F64: v.f = cur.read<double>(what); break;
    case GGUFValueType::BOOL: {
      const uint8_t b = cur.read<uint8_t>(what);
      if (b > 1) throw FormatError("GGUF: " + what + " is a bool with value " + std::to_string(b) + at_byte(pos));
      v.i = b;
      break;
    }
    case GGUFValueType::STRING: v.str = cur.read_string(what, kNoLimit); break;
    case GGUFValueType::ARRAY: return read_array(cur, what, depth);
  }
  if (type != GGUFValueType::U64) v.u = static_cast<uint64_t>(v.i);
  return v;
}

}  // namespace

const char* gguf_value_type_name(GGUFValueType t) {
  static const char* const names[] = {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
                                      "bool", "string", "array", "uint64", "int64", "float64"};
  const auto i = static_cast<uint32_t>(t);
  return i < sizeof(names) / sizeof(names[0]) ? names[i] : "invalid";
}

bool GGUFValue::is_integer() const {
  switch (type) {
    case GGUFValueType::U8: case GGUFValueType::I8: case GGUFValueType::U16: case GGUFValueType::I16:
    case GGUFValueType::U32: case GGUFValueType::I32: case GGUFValueType::U64: case GGUFValueType::I64:
      return true;
    default:
      return false;
  }
}

int64_t GGUFValue::element_int(uint64_t index) const {
  const uint8_t* p = elements + index * scalar_size(element_type);
  switch (element_type) {
    case GGUFValueType::U8: case GGUFValueType::BOOL: return *p;
    case GGUFValueType::I8: return static_cast<int8_t>(*p);
    case GGUFValueType::U16: { uint16_t x; std::memcpy(&x, p, 2); return x; }
    case GGUFValueType::I16: { int16_t x; std::memcpy(&x, p, 2); return x; }
    case GGUFValueType::U32: { uint32_t x; std::memcpy(&x, p, 4); return x; }
    case GGUFValueType::I32: { int32_t x; std::memcpy(&x, p, 4); return x; }
    case GGUFValueType::U64: case GGUFValueType::I64: { int64_t x; std::memcpy(&x, p, 8); return x; }
    case GGUFValueType::F32: return static_cast<int64_t>(element_float(index));
    case GGUFValueType::F64: return static_cast<int64_t>(element_float(index));
    default: return 0;
  }
}

double GGUFValue::element_float(uint64_t index) const {
  const uint8_t* p = elements + index * scalar_size(element_type);
  if (element_type == GGUFValueType::F32) { float x; std::memcpy(&x, p, 4); return x; }
  if (element_type == GGUFValueType::F64) { double x; std::memcpy(&x, p, 8); return x; }
  return static_cast<double>(element_int(index));
}

std::shared_ptr<GGUFFile> GGUFFile::open(const std::string& path) { return std::make_shared<GGUFFile>(path); }

GGUFFile::GGUFFile(const std::string& path) : file_(path) { parse(); }

void GGUFFile::parse() {
  Cursor cur(file_.data(), file_.size());
  if (file_.size() < 4 || std::memcmp(file_.data(), "GGUF", 4) != 0) {
    throw FormatError("'" + path() + "' is not a GGUF file: the first 4 bytes are not the magic 'GGUF'");
  }
  cur.skip(4, "magic");
  version_ = cur.read<uint32_t>("header version");
  if (version_ == 1) throw FormatError("GGUF: version 1 files are not supported (re-convert the model)" + at_byte(4));
  if (version_ != 2 && version_ != 3) {
    const bool swapped = (version_ & 0xffffu) == 0 && (version_ >> 16) != 0;
    throw FormatError(std::string("GGUF: ") + (swapped ? "big-endian files are not supported" : "unknown version " + std::to_string(version_)) + at_byte(4));
  }
  const uint64_t n_tensors = cur.read<uint64_t>("header tensor count");
  const uint64_t n_kv = cur.read<uint64_t>("header metadata count");
  // A key-value pair takes at least 8 (key length) + 4 (type) + 1 bytes; a tensor info at least
  // 8 + 4 + 4 + 8 bytes. Reject counts the file cannot possibly hold before reserving anything.
  if (n_kv > cur.remaining() / 13) {
    throw FormatError("GGUF: header metadata count " + std::to_string(n_kv) + " is larger than the file can hold" + at_byte(16));
  }
  if (n_tensors > cur.remaining() / 24) {
    throw FormatError("GGUF: header tensor count " + std::to_string(n_tensors) + " is larger than the file can hold" + at_byte(8));
  }

  metadata_.reserve(n_kv);
  metadata_spans_.reserve(n_kv);
  uint64_t alignment_pos = 0;  // where general.alignment's value starts, for its error message
  for (uint64_t k = 0; k < n_kv; ++k) {
    const uint64_t key_pos = cur.pos();
    const std::string_view key_view = cur.read_string("metadata key #" + std::to_string(k), kMaxKeyBytes);
    std::string key(key_view);
    if (key.empty()) throw FormatError("GGUF: metadata key #" + std::to_string(k) + " is empty" + at_byte(key_pos));
    if (!valid_utf8(key_view)) throw FormatError("GGUF: metadata key #" + std::to_string(k) + " is not valid UTF-8" + at_byte(key_pos));
    if (metadata_index_.count(key)) throw FormatError("GGUF: duplicate metadata key '" + key + "'" + at_byte(key_pos));
    const uint64_t type_pos = cur.pos();
    const uint32_t raw_type = cur.read<uint32_t>("type of metadata '" + key + "'");
    if (!valid_value_type(raw_type)) {
      throw FormatError("GGUF: metadata '" + key + "' has invalid value type " + std::to_string(raw_type) + at_byte(type_pos));
    }
    if (key == "general.alignment") alignment_pos = cur.pos();
    GGUFValue value = read_value(cur, static_cast<GGUFValueType>(raw_type), "metadata '" + key + "'", 0);
    metadata_index_.emplace(key, metadata_.size());
    metadata_.emplace_back(std::move(key), std::move(value));
    metadata_spans_.push_back({key_pos, cur.pos()});
  }

  if (const GGUFValue* a = find("general.alignment")) {
    if (!a->is_integer() || a->i < static_cast<int64_t>(kMinAlignment) || static_cast<uint64_t>(a->i) > kMaxAlignment ||
        (a->i & (a->i - 1)) != 0) {
      const std::string got = !a->is_integer()                 ? std::string(gguf_value_type_name(a->type))
                              : a->type == GGUFValueType::U64 ? std::to_string(a->u)
                                                              : std::to_string(a->i);
      throw FormatError("GGUF: metadata 'general.alignment' must be a power of two integer from 8 to 1 MiB, got " + got +
                        at_byte(alignment_pos));
    }
    alignment_ = static_cast<uint64_t>(a->i);
  }

  tensors_.reserve(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    const uint64_t info_pos = cur.pos();
    GGUFTensorInfo t;
    t.name = std::string(cur.read_string("name of tensor #" + std::to_string(k), kMaxTensorNameBytes));
    const std::string label = "tensor '" + t.name + "' (info at byte " + std::to_string(info_pos) + ")";
    if (t.name.empty()) throw FormatError("GGUF: tensor #" + std::to_string(k) + " has an empty name" + at_byte(info_pos));
    if (!valid_utf8(t.name)) throw FormatError("GGUF: name of tensor #" + std::to_string(k) + " is not valid UTF-8" + at_byte(info_pos));
    if (tensor_index_.count(t.name)) throw FormatError("GGUF: duplicate tensor name '" + t.name + "'" + at_byte(info_pos));
    t.n_dims = cur.read<uint32_t>("dimension count of " + label);
    if (t.n_dims == 0 || t.n_dims > kMaxDims) {
      throw FormatError("GGUF: " + label + " has " + std::to_string(t.n_dims) + " dimensions (1 to 4 supported)");
    }
    uint64_t n_elements = 1;
    for (uint32_t d = 0; d < t.n_dims; ++d) {
      t.ne[d] = cur.read<uint64_t>("dimension " + std::to_string(d) + " of " + label);
      if (t.ne[d] == 0 || t.ne[d] > static_cast<uint64_t>(INT64_MAX)) {
        throw FormatError("GGUF: " + label + " has invalid dimension " + std::to_string(d) + " = " + std::to_string(t.ne[d]));
      }
      if (!checked_mul(n_elements, t.ne[d], &n_elements) || n_elements > static_cast<uint64_t>(INT64_MAX)) {
        throw FormatError("GGUF: " + label + " has an element count that overflows 64 bits");
      }
    }
    const uint64_t type_pos = cur.pos();
    const uint32_t raw_type = cur.read<uint32_t>("type of " + label);
    const GGMLTypeInfo* info = ggml_type_info(raw_type);
    if (info == nullptr) {
      throw FormatError("GGUF: " + label + " has unknown tensor type id " + std::to_string(raw_type) + at_byte(type_pos));
    }
    t.type = static_cast<GGMLType>(raw_type);
    if (t.ne[0] % info->block_size != 0) {
      throw FormatError("GGUF: " + label + " has row length " + std::to_string(t.ne[0]) + ", not a multiple of the " +
                        info->name + " block size " + std::to_string(info->block_size));
    }
    uint64_t nbytes = 0;
    if (!checked_mul(n_elements / info->block_size, info->type_size, &nbytes)) {
      throw FormatError("GGUF: " + label + " has a byte size that overflows 64 bits");
    }
    t.nbytes = nbytes;
    const uint64_t offset_pos = cur.pos();
    t.offset = cur.read<uint64_t>("data offset of " + label);  // relative for now
    if (t.offset % alignment_ != 0) {
      throw FormatError("GGUF: " + label + " data offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
                        std::to_string(alignment_) + at_byte(offset_pos));
    }
    tensor_index_.emplace(t.name, tensors_.size());
    tensors_.push_back(std::move(t));
  }

  data_offset_ = align_up(cur.pos(), alignment_);
  if (!tensors_.empty() && data_offset_ > file_.size()) {
    throw FormatError("GGUF: file truncated before the tensor data section, which starts at byte " + std::to_string(data_offset_) +
                      " (file size " + std::to_string(file_.size()) + ")");
  }
  const uint64_t data_size = tensors_.empty() ? 0 : file_.size() - data_offset_;
  for (GGUFTensorInfo& t : tensors_) {
    uint64_t end = 0;
    if (!checked_add(t.offset, t.nbytes, &end) || end > data_size) {
      throw FormatError("GGUF: tensor '" + t.name + "' data [" + std::to_string(t.offset) + ", +" + std::to_string(t.nbytes) +
                        ") relative to the data section at byte " + std::to_string(data_offset_) +
                        " extends past the end of the file (size " + std::to_string(file_.size()) + ")");
    }
    t.offset += data_offset_;  // absolute from here on
  }
  std::vector<size_t> order(tensors_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
  for (size_t k = 1; k < order.size(); ++k) {
    const GGUFTensorInfo& prev = tensors_[order[k - 1]];
    const GGUFTensorInfo& cur_t = tensors_[order[k]];
    if (cur_t.offset < prev.offset + prev.nbytes) {
      throw FormatError("GGUF: tensor '" + cur_t.name + "' data at byte " + std::to_string(cur_t.offset) + " overlaps tensor '" +
                        prev.name + "' (bytes " + std::to_string(prev.offset) + " to " + std::to_string(prev.offset + prev.nbytes) + ")");
    }
  }
}

const GGUFValue* GGUFFile::find(const std::string& key) const {
  const auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].second;
}

const GGUFTensorInfo* GGUFFile::find_tensor(const std::string& name) const {
  const auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
[[noreturn]] void wrong_type(const std::string& key, const GGUFValue& v, const char* expected) {
  throw FormatError("GGUF: metadata '" + key + "' should be " + expected + " but is " + gguf_value_type_name(v.type));
}
[[noreturn]] void missing(const std::string& key) { throw FormatError("GGUF: required metadata '" + key + "' is missing"); }
}  // namespace

uint64_t GGUFFile::get_uint(const std::string& key) const {
  const GGUFValue* v = find(key);
  if (!v) missing(key);
  if (!v->is_integer()) wrong_type(key, *v, "an integer");
  if (v->type != GGUFValueType::U64 && v->i < 0) {
    throw FormatError("GGUF: metadata '" + key + "' must not be negative, got " + std::to_string(v->i));
  }
  return v->u;
}
uint64_t GGUFFile::get_uint(const std::string& key, uint64_t fallback) const { return has(key) ? get_uint(key) : fallback; }

double GGUFFile::get_float(const std::string& key) const {
  const GGUFValue* v = find(key);
  if (!v) missing(key);
  if (v->is_float()) return v->f;
  if (v->is_integer()) return v->type == GGUFValueType::U64 ? static_cast<double>(v->u) : static_cast<double>(v->i);
  wrong_type(key, *v, "a number");
}
double GGUFFile::get_float(const std::string& key, double fallback) const { return has(key) ? get_float(key) : fallback; }

bool GGUFFile::get_bool(const std::string& key, bool fallback) const {
  const GGUFValue* v = find(key);
  if (!v) return fallback;
  if (v->type != GGUFValueType::BOOL) wrong_type(key, *v, "a bool");
  return v->i != 0;
}

std::string GGUFFile::get_string(const std::string& key) const {
  const GGUFValue* v = find(key);
  if (!v) missing(key);
  if (v->type != GGUFValueType::STRING) wrong_type(key, *v, "a string");
  return std::string(v->str);
}
std::string GGUFFile::get_string(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_string(key) : fallback;
}

const GGUFValue& GGUFFile::get_array(const std::string& key, GGUFValueType element_type) const {
  const GGUFValue* v = find(key);
  if (!v) missing(key);
  if (v->type != GGUFValueType::ARRAY) wrong_type(key, *v, "an array");
  if (v->element_type != element_type) {
    throw FormatError("GGUF: metadata '" + key + "' should be an array of " + gguf_value_type_name(element_type) +
                      " but holds " + gguf_value_type_name(v->element_type));
  }
  return *v;
}

}  // namespace ple
