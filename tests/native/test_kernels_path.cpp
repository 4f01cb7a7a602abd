// The chosen kernel path, and the optional 2x2 prefill tiles against their __ref twins.
// - PLE_EXPECT_ISA (set by CI under each emulated CPU) names the table active_kernels() must
//   choose; every narrower built table must then be usable too, so the kernel tests of
//   test_kernels_isa.cpp ran every path up to it against the reference.
// - 2x2 prefill tiles (ARM i8mm, 2 rows x 2 tokens) against their __ref twins, which are built
//   from the reference dots: each of the four outputs must equal the twin's bit for bit (the
//   table's integer dots equal the reference bit for bit too), on random, extreme (65504,
//   subnormal, +-0 scales) and -128 activation patterns, with row strides other than the row
//   size. (test_kernels_isa.cpp checks every tile of every table against the table's dot.)
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "core/fp16.h"
#include "kernels/kernel_table.h"
#include "kernels/ref/ref_kernels.h"
#include "quant/blocks.h"
#include "quant/ggml_types.h"

using namespace ple;
using kernels::KernelTable;

namespace {

// Same float or both NaN: the tile promises the dot's value, NaN payloads aside.
bool same_value(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0; }

struct TileCase {
  GGMLType type;
  kernels::DotTileFn ref;
};
const TileCase kTileCases[] = {
    {GGMLType::Q4_0, kernels::qtile_q4_0_q8_0_2x2__ref},
    {GGMLType::Q8_0, kernels::qtile_q8_0_q8_0_2x2__ref},
};

uint16_t scale_half(std::mt19937& gen, int kind) {
  static const uint16_t extreme[] = {0x7bff, 0xfbff, 0x0001, 0x8001, 0x03ff, 0x0400, 0x0000, 0x8000};
  static const uint16_t unit[] = {0x3c00, 0xbc00, 0x4000, 0xc000};
  if (kind == 1) return extreme[gen() % 8];
  if (kind == 2) return unit[gen() % 4];
  const float mag = std::ldexp(1.0f + static_cast<float>(gen() % 1024) / 1024.0f, -10 + static_cast<int>(gen() % 6));
  return fp32_to_fp16((gen() & 1) ? -mag : mag);
}

}  // namespace

TEST(kernels_expected_isa) {
  const char* expected = std::getenv("PLE_EXPECT_ISA");
  const KernelTable& active = kernels::active_kernels();
  int n_usable = 0, n_built = 0;
  const char* const* usable = kernels::usable_isas(&n_usable);
  const char* const* built = kernels::built_isas(&n_built);
  if (expected == nullptr || *expected == '\0') {
    std::printf("kernels: PLE_EXPECT_ISA not set, chosen isa=%s\n", active.isa);
    return;
  }
  CHECK_MSG(std::strcmp(active.isa, expected) == 0, std::string("chose ") + active.isa + ", expected " + expected);
  CHECK_MSG(n_usable >= 1 && std::strcmp(usable[n_usable - 1], expected) == 0, "widest usable table is the expected one");
  // Usable tables are exactly the built ones up to the expected one, narrowest first.
  CHECK(n_usable <= n_built);
  for (int i = 0; i < n_usable && i < n_built; ++i) CHECK_MSG(std::strcmp(usable[i], built[i]) == 0, usable[i]);
}

TEST(kernels_tile2x2_equal_ref_twins) {
  std::mt19937 gen(77);
  int n_usable = 0;
  const char* const* usable = kernels::usable_isas(&n_usable);
  int checked = 0;
  bool any_tiles = false;
  for (int i = 0; i < n_usable; ++i) {
    const KernelTable& table = *kernels::kernel_table_for(usable[i]);
    if (std::strcmp(table.isa, "i8mm") == 0) {
      for (GGMLType type : {GGMLType::Q4_0, GGMLType::Q8_0}) {
        const kernels::TileKernel& tile = table.for_type(type).prefill_tile;
        CHECK(tile.fn != nullptr && tile.rows == 2 && tile.tokens == 2);
      }
    }
    for (const TileCase& c : kTileCases) {
      const kernels::WeightKernels& k = table.for_type(c.type);
      if (k.prefill_tile.fn == nullptr || k.prefill_tile.rows != 2 || k.prefill_tile.tokens != 2) continue;
      any_tiles = true;
      const GGMLTypeInfo& wi = ggml_type_info(c.type);
      const GGMLTypeInfo& ai = ggml_type_info(GGMLType::Q8_0);
      for (int blocks : {1, 2, 7, 33, 64}) {
        const int64_t n = static_cast<int64_t>(blocks) * kQK;
        const size_t w_row = static_cast<size_t>(blocks) * wi.type_size, a_row = static_cast<size_t>(blocks) * ai.type_size;
        for (int trial = 0; trial < 9; ++trial) {
          const int scales = trial % 3;  // realistic, extreme, unit
          // Rows 0 and 1 of the tile lie `gap` bytes apart from each other's ends (strides).
          const size_t w_stride = w_row + (trial % 2 ? 0 : 7), a_stride = a_row + (trial % 4 == 1 ? 34 : 0);
          std::vector<uint8_t> w(w_stride + w_row), a(a_stride + a_row);
          for (uint8_t& byte : w) byte = static_cast<uint8_t>(gen());
          for (int r = 0; r < 2; ++r) {
            for (int b = 0; b < blocks; ++b) {
              const uint16_t h = scale_half(gen, scales);
              std::memcpy(&w[r * w_stride + b * wi.type_size], &h, 2);
            }
          }
          for (int t = 0; t < 2; ++t) {
            uint8_t* row = &a[t * a_stride];
            if (trial < 3) {  // quantized activations
              std::vector<float> x(static_cast<size_t>(n));
              for (float& v : x) v = (static_cast<float>(gen() % 20001) - 10000.0f) * 1e-3f;
              kernels::reference_kernels().quantizer(GGMLType::Q8_0)(x.data(), row, n);
            } else {  // raw quants: random, all -128, alternating 127 / -128, with unit-ish scales
              for (int b = 0; b < blocks; ++b) {
                auto* blk = reinterpret_cast<BlockQ8_0*>(row + b * ai.type_size);
                const uint16_t h = scale_half(gen, scales);
                std::memcpy(&blk->d, &h, 2);
                for (int j = 0; j < kQK; ++j) {
                  const int v = trial % 3 == 0 ? static_cast<int>(gen() % 256) - 128 : trial % 3 == 1 ? -128 : (j % 2 ? -128 : 127);
                  blk->qs[j] = static_cast<int8_t>(v);
                }
              }
            }
          }
          float got[4], twin[4];
          k.prefill_tile.fn(n, w.data(), w_stride, a.data(), a_stride, got);
          c.ref(n, w.data(), w_stride, a.data(), a_stride, twin);
          for (int r = 0; r < 2; ++r) {
            for (int t = 0; t < 2; ++t) {
              const float ref_dot = kernels::reference_kernels().for_type(c.type).dot(n, &w[r * w_stride], &a[t * a_stride]);
              const float table_dot = k.dot(n, &w[r * w_stride], &a[t * a_stride]);
              const std::string what = std::string(k.prefill_tile.name) + " blocks=" + std::to_string(blocks) + " trial=" +
                                       std::to_string(trial) + " r=" + std::to_string(r) + " t=" + std::to_string(t);
              CHECK_MSG(same_value(twin[2 * r + t], ref_dot), what + ": __ref twin differs from the reference dot");
              CHECK_MSG(same_value(got[2 * r + t], twin[2 * r + t]),
                        what + ": got " + std::to_string(got[2 * r + t]) + " want " + std::to_string(twin[2 * r + t]));
              CHECK_MSG(same_value(table_dot, ref_dot), what + ": the table's dot differs from the reference");
              ++checked;
            }
          }
        }
      }
    }
  }
  std::printf("kernels: %d tile outputs checked\n", checked);
  if (any_tiles) CHECK(checked >= 2 * 5 * 9 * 4);
  const char* expected = std::getenv("PLE_EXPECT_ISA");
  if (expected != nullptr && std::strcmp(expected, "i8mm") == 0) CHECK_MSG(any_tiles, "the i8mm table has tiles");
}
