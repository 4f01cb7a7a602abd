// libFuzzer harness for the GGUF reader: bytes -> parse -> walk every metadata value and tensor
// -> dequantize the first row of each tensor -> bind a LlamaModel and a Tokenizer. Any ple::Error
// is an accepted outcome; a crash, a sanitizer report, a leak or a hang is a finding.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "fuzz_util.h"
#include "io/gguf.h"
#include "kernels/kernel_table.h"
#include "model/llama_model.h"
#include "tokenizer/tokenizer.h"

namespace {

volatile uint64_t g_sink;  // keeps the walks from being optimized away

void walk(const ple::GGUFValue& v, int depth) {
  uint64_t h = static_cast<uint64_t>(v.type) + static_cast<uint64_t>(v.i) + v.u + v.str.size();
  if (v.type == ple::GGUFValueType::ARRAY) {
    for (const auto& s : v.strings) h += s.size() + (s.empty() ? 0 : static_cast<uint8_t>(s[0]));
    for (const auto& item : v.items) walk(item, depth + 1);
    if (v.elements != nullptr && v.count > 0) {
      const uint64_t n = std::min<uint64_t>(v.count, 64);
      for (uint64_t i = 0; i < n; ++i) {
        if (v.element_type == ple::GGUFValueType::F32 || v.element_type == ple::GGUFValueType::F64) {
          h += static_cast<uint64_t>(v.element_float(i) > 0.0);
        } else if (v.element_type != ple::GGUFValueType::STRING && v.element_type != ple::GGUFValueType::ARRAY) {
          h += static_cast<uint64_t>(v.element_int(i));
        }
      }
    }
  }
  g_sink = g_sink + h + static_cast<uint64_t>(depth);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ple_fuzz::MemFile mem;
  const std::string path = mem.set(data, size);
  try {
    std::shared_ptr<ple::GGUFFile> file = ple::GGUFFile::open(path);
    for (const auto& kv : file->metadata()) walk(kv.second, 0);
    std::vector<float> row;
    for (const auto& t : file->tensors()) {
      const uint8_t* p = file->tensor_data(t);
      g_sink = g_sink + p[0] + p[t.nbytes - 1];  // first and last byte are inside the file
      const auto fn = ple::kernels::active_kernels().for_type(t.type).dequantize;
      const int64_t n = static_cast<int64_t>(std::min<uint64_t>(t.ne[0], 4096));
      if (fn != nullptr && n > 0 && n == static_cast<int64_t>(t.ne[0])) {
        row.resize(static_cast<size_t>(n));
        fn(p, row.data(), n);
        g_sink = g_sink + static_cast<uint64_t>(row[0] > 0.0f);
      }
    }
    try {
      ple::LlamaModel model(file);
      g_sink = g_sink + static_cast<uint64_t>(model.hparams().n_vocab);
    } catch (const ple::Error&) {
    }
    ple::Tokenizer tok(*file);
    g_sink = g_sink + tok.encode("Hello world 123", true, true).size();
  } catch (const ple::Error&) {
  }
  return 0;
}
