// GGUF v2/v3 reader. The file is memory-mapped; metadata strings and tensor data are views into
// the mapping. Nothing read from the file is trusted: every count, length, offset and size is
// checked against the file before use, and errors name the field and its byte offset.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/mapped_file.h"
#include "quant/ggml_types.h"

namespace ple {

enum class GGUFValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STRING = 8,
  ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char* gguf_value_type_name(GGUFValueType t);

struct GGUFValue {
  GGUFValueType type = GGUFValueType::U8;
  // Scalars, widened: integer types in `i` (u64 values above INT64_MAX in `u`), floats in `f`.
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0.0;
  std::string_view str;  // STRING

  // ARRAY: element type and count. Numeric elements stay in the file (little-endian, possibly
  // unaligned: read them with element_*()); strings and nested arrays are parsed.
  GGUFValueType element_type = GGUFValueType::U8;
  uint64_t count = 0;
  const uint8_t* elements = nullptr;
  std::vector<std::string_view> strings;
  std::vector<GGUFValue> items;

  bool is_integer() const;
  bool is_float() const { return type == GGUFValueType::F32 || type == GGUFValueType::F64; }
  // Numeric array element i as int64 / double (caller checks element type and i < count).
  int64_t element_int(uint64_t index) const;
  double element_float(uint64_t index) const;
};

struct GGUFTensorInfo {
  std::string name;
  uint32_t n_dims = 0;
  uint64_t ne[4] = {1, 1, 1, 1};  // ggml order: ne[0] is the contiguous (row) dimension
  GGMLType type = GGMLType::F32;
  uint64_t offset = 0;            // absolute offset of the data in the file
  uint64_t nbytes = 0;
  uint64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }  // validated at load
};

class GGUFFile {
 public:
  static std::shared_ptr<GGUFFile> open(const std::string& path);
  explicit GGUFFile(const std::string& path);  // prefer open()

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return file_.size(); }
  const std::string& path() const { return file_.path(); }
  const MappedFile& mapped() const { return file_; }
  void check_unchanged() const { file_.check_unchanged(); }  // see MappedFile
  void release(const uint8_t* p, uint64_t n) const { file_.release(p, n); }  // see MappedFile

  // Metadata in file order.
  const std::vector<std::pair<std::string, GGUFValue>>& metadata() const { return metadata_; }
  const GGUFValue* find(const std::string& key) const;  // nullptr when absent
  // Byte range [begin, end) of metadata pair k (key, type and value) in the file: a writer copies
  // pairs through unchanged, so every value keeps its exact GGUF type.
  struct ByteSpan {
    uint64_t begin = 0, end = 0;
  };
  ByteSpan metadata_span(size_t k) const { return metadata_spans_.at(k); }
  // Typed getters: FormatError naming the key when present with a different type.
  bool has(const std::string& key) const { return find(key) != nullptr; }
  uint64_t get_uint(const std::string& key) const;  // any non-negative integer type
  uint64_t get_uint(const std::string& key, uint64_t fallback) const;
  double get_float(const std::string& key) const;  // F32/F64 (integers accepted)
  double get_float(const std::string& key, double fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  std::string get_string(const std::string& key) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  const GGUFValue& get_array(const std::string& key, GGUFValueType element_type) const;

  const std::vector<GGUFTensorInfo>& tensors() const { return tensors_; }
  const GGUFTensorInfo* find_tensor(const std::string& name) const;  // nullptr when absent
  const uint8_t* tensor_data(const GGUFTensorInfo& t) const { return file_.data() + t.offset; }
  const uint8_t* bytes() const { return file_.data(); }  // the whole mapping, file_size() bytes

 private:
  void parse();

  MappedFile file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GGUFValue>> metadata_;
  std::unordered_map<std::string, size_t> metadata_index_;
  std::vector<ByteSpan> metadata_spans_;  // parallel to metadata_
  std::vector<GGUFTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace ple
