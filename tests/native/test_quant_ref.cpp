// Reference kernels: fp16/bf16 conversions, block geometry, and every reference dot against the
// double-precision dot of its dequantized operands.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "core/fp16.h"
#include "kernels/kernel_table.h"
#include "quant/blocks.h"
#include "quant/ggml_types.h"

using namespace ple;

namespace {

constexpr double kEps32 = 1.0 / 16777216.0;  // float32 unit roundoff, 2^-24

bool is_nan_bits16(uint16_t h, bool bf16) {
  return bf16 ? ((h & 0x7f80u) == 0x7f80u && (h & 0x7fu) != 0) : ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu) != 0);
}

// Independent decoding of a binary16 value, in double.
double half_value(uint16_t h) {
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const double mag = e == 0 ? std::ldexp(m, -24) : e == 31 ? INFINITY : std::ldexp(1024 + m, e - 25);
  return (h & 0x8000u) ? -mag : mag;
}

// Deterministic across platforms: mt19937's sequence is fixed by the standard; the
// distributions are not, so values are derived from raw 32-bit draws here.
struct Rng {
  std::mt19937 gen;
  explicit Rng(uint32_t seed) : gen(seed) {}
  uint32_t u32() { return static_cast<uint32_t>(gen()); }
  float uniform() { return static_cast<float>(u32() >> 8) * (2.0f / 16777216.0f) - 1.0f; }  // [-1, 1)
  // A normal-range half of either sign with magnitude in [2^lo, 2^hi).
  uint16_t half(int lo, int hi) {
    const float mag = std::ldexp(1.0f + static_cast<float>(u32() >> 9) / 8388608.0f, lo + static_cast<int>(u32() % (hi - lo)));
    return fp32_to_fp16((u32() & 1) ? -mag : mag);
  }
};

void put_half(uint8_t* p, uint16_t h) { std::memcpy(p, &h, 2); }

}  // namespace

TEST(fp16_round_trips_every_half) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const auto bits = static_cast<uint16_t>(h);
    const float f = fp16_to_fp32(bits);
    if (is_nan_bits16(bits, false)) {
      CHECK_MSG(std::isnan(f) && std::signbit(f) == ((bits & 0x8000u) != 0), "NaN half " + std::to_string(h));
      const uint16_t back = fp32_to_fp16(f);
      CHECK_MSG(is_nan_bits16(back, false) && (back & 0x8000u) == (bits & 0x8000u), "NaN back " + std::to_string(h));
      continue;
    }
    const double v = half_value(bits);
    CHECK_MSG(static_cast<double>(f) == v && std::signbit(f) == ((bits & 0x8000u) != 0), "value of half " + std::to_string(h));
    CHECK_MSG(fp32_to_fp16(f) == bits, "round trip of half " + std::to_string(h));
  }
}

// Between two neighbouring finite halves, fp32_to_fp16 must round to nearest with ties to even.
TEST(fp16_rounds_to_nearest_even) {
  for (uint32_t h = 0; h < 0x7c00u; ++h) {  // positive finite; h + 1 may be +Inf
    const double lo = half_value(static_cast<uint16_t>(h));
    const double hi = h + 1 == 0x7c00u ? 65536.0 : half_value(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((lo + hi) / 2);  // exact: 11 significant bits at most
    const auto even = static_cast<uint16_t>((h & 1) ? h + 1 : h);
    for (int sign = 0; sign < 2; ++sign) {
      const uint16_t s = sign ? 0x8000u : 0u;
      const float m = sign ? -mid : mid;
      CHECK_MSG(fp32_to_fp16(m) == (even | s), "tie above half " + std::to_string(h));
      CHECK_MSG(fp32_to_fp16(std::nextafter(m, 0.0f)) == (h | s), "below midpoint of " + std::to_string(h));
      CHECK_MSG(fp32_to_fp16(std::nextafter(m, sign ? -INFINITY : INFINITY)) == ((h + 1) | s),
                "above midpoint of " + std::to_string(h));
    }
  }
  CHECK(fp32_to_fp16(1e30f) == 0x7c00u);
  CHECK(fp32_to_fp16(-INFINITY) == 0xfc00u);
  CHECK(fp32_to_fp16(1e-9f) == 0x0000u);  // below half of the smallest subnormal
  CHECK(fp32_to_fp16(-0.0f) == 0x8000u);
}

TEST(bf16_round_trips_every_value) {
  for (uint32_t b = 0; b < 65536; ++b) {
    const auto bits = static_cast<uint16_t>(b);
    const float f = bf16_to_fp32(bits);
    CHECK(float_to_bits(f) == b << 16);
    const uint16_t back = fp32_to_bf16(f);
    if (is_nan_bits16(bits, true)) {
      CHECK_MSG(is_nan_bits16(back, true) && (back & 0x8000u) == (bits & 0x8000u), "NaN bf16 " + std::to_string(b));
    } else {
      CHECK_MSG(back == bits, "round trip of bf16 " + std::to_string(b));
    }
    // The midpoint above b rounds to the even neighbour (finite, positive and below the largest).
    if (b < 0x7f7fu) {
      const uint32_t mid = (b << 16) | 0x8000u;
      CHECK_MSG(fp32_to_bf16(bits_to_float(mid)) == ((b & 1) ? b + 1 : b), "bf16 tie above " + std::to_string(b));
      CHECK_MSG(fp32_to_bf16(bits_to_float(mid + 1)) == b + 1, "bf16 above tie " + std::to_string(b));
      CHECK_MSG(fp32_to_bf16(bits_to_float(mid - 1)) == b, "bf16 below tie " + std::to_string(b));
    }
  }
}

TEST(block_structs_match_type_table) {
  struct Row { GGMLType type; size_t size; uint32_t block; };
  const Row rows[] = {
      {GGMLType::Q4_0, sizeof(BlockQ4_0), 32}, {GGMLType::Q4_1, sizeof(BlockQ4_1), 32},
      {GGMLType::Q5_0, sizeof(BlockQ5_0), 32}, {GGMLType::Q5_1, sizeof(BlockQ5_1), 32},
      {GGMLType::Q8_0, sizeof(BlockQ8_0), 32}, {GGMLType::Q8_1, sizeof(BlockQ8_1), 32},
      {GGMLType::Q2_K, sizeof(BlockQ2_K), 256}, {GGMLType::Q3_K, sizeof(BlockQ3_K), 256},
      {GGMLType::Q4_K, sizeof(BlockQ4_K), 256}, {GGMLType::Q5_K, sizeof(BlockQ5_K), 256},
      {GGMLType::Q6_K, sizeof(BlockQ6_K), 256}, {GGMLType::Q8_K, sizeof(BlockQ8_K), 256},
  };
  for (const Row& r : rows) {
    CHECK_MSG(ggml_type_info(r.type).type_size == r.size, ggml_type_name(r.type));
    CHECK_MSG(ggml_type_info(r.type).block_size == r.block, ggml_type_name(r.type));
  }
  // Field offsets the Python tests and the SIMD kernels rely on.
  CHECK(offsetof(BlockQ2_K, d) == 80 && offsetof(BlockQ2_K, dmin) == 82);
  CHECK(offsetof(BlockQ3_K, scales) == 96 && offsetof(BlockQ3_K, d) == 108);
  CHECK(offsetof(BlockQ4_K, scales) == 4 && offsetof(BlockQ4_K, qs) == 16);
  CHECK(offsetof(BlockQ5_K, qh) == 16 && offsetof(BlockQ5_K, qs) == 48);
  CHECK(offsetof(BlockQ6_K, scales) == 192 && offsetof(BlockQ6_K, d) == 208);
  CHECK(offsetof(BlockQ8_K, qs) == 4 && offsetof(BlockQ8_K, bsums) == 260);
}

// Q8_K: round trip within half a step (plus float32 rounding: see the bound), bsums consistent.
TEST(quantize_q8_k_ref_round_trip) {
  const auto& k = kernels::reference_kernels();
  Rng rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const int n = 256 * (1 + trial % 3);
    const float scale = std::ldexp(1.0f, trial % 40 - 20);
    std::vector<float> x(n), y(n);
    for (float& v : x) v = rng.uniform() * scale;
    if (trial % 5 == 0) x[trial % n] = 0.0f;
    std::vector<BlockQ8_K> blocks(n / 256);
    k.quantizer(GGMLType::Q8_K)(x.data(), blocks.data(), n);
    k.for_type(GGMLType::Q8_K).dequantize(blocks.data(), y.data(), n);
    for (int b = 0; b < n / 256; ++b) {
      const BlockQ8_K& blk = blocks[b];
      float amax = 0.0f;
      for (int i = 0; i < 256; ++i) amax = std::fmax(amax, std::fabs(x[b * 256 + i]));
      CHECK(blk.d == amax / 127.0f);
      // |y - x| <= d/2 + 3 eps amax: x*(1/d) carries two roundings (<= 254 eps in units of q)
      // and d*q one more (<= 127 eps d).
      const double bound = 0.5 * blk.d + 4 * kEps32 * amax;
      for (int i = 0; i < 256; ++i) CHECK(std::fabs(static_cast<double>(y[b * 256 + i]) - x[b * 256 + i]) <= bound);
      for (int j = 0; j < 16; ++j) {
        int sum = 0;
        for (int i = 0; i < 16; ++i) sum += blk.qs[16 * j + i];
        CHECK(blk.bsums[j] == sum);
      }
    }
  }
  // Tiny inputs whose scale is subnormal in float32 still quantize to the nearest step.
  std::vector<float> x(256, 0.0f);
  x[3] = 2e-38f;
  x[9] = -0.25f * x[3];  // -31.75 steps
  BlockQ8_K blk;
  k.quantizer(GGMLType::Q8_K)(x.data(), &blk, 256);
  CHECK(blk.qs[3] == 127 && blk.qs[9] == -32 && blk.qs[0] == 0);
}

namespace {

// How to build the "magnitude" of a weight block: dequantizing with the sign bit of d cleared and
// that of the min set (subtracted minimum) or cleared (added minimum) gives, element by element,
// |d*sc*q| + |dmin*m| for formats whose integer parts are non-negative. Formats without a
// minimum use |w|.
struct WeightCase {
  GGMLType type;
  int d_offset;   // byte offset of the fp16 scale (-1: float format)
  int m_offset;   // byte offset of the fp16 min (-1: none)
  bool m_added;   // x = d*q + m (Q4_1, Q5_1) rather than d*sc*q - dmin*m
};

const WeightCase kWeightCases[] = {
    {GGMLType::F32, -1, -1, false},  {GGMLType::F16, -1, -1, false},  {GGMLType::BF16, -1, -1, false},
    {GGMLType::Q4_0, 0, -1, false},  {GGMLType::Q5_0, 0, -1, false},  {GGMLType::Q8_0, 0, -1, false},
    {GGMLType::Q4_1, 0, 2, true},    {GGMLType::Q5_1, 0, 2, true},    {GGMLType::Q2_K, 80, 82, false},
    {GGMLType::Q3_K, 108, -1, false}, {GGMLType::Q4_K, 0, 2, false},  {GGMLType::Q5_K, 0, 2, false},
    {GGMLType::Q6_K, 208, -1, false},
};

// Random weight bytes: random quants, fp16 scales in [2^-10, 2^-4) of either sign.
std::vector<uint8_t> random_weights(const WeightCase& c, int64_t n, Rng& rng) {
  const GGMLTypeInfo& info = ggml_type_info(c.type);
  std::vector<uint8_t> raw(static_cast<size_t>(n / info.block_size * info.type_size));
  if (c.d_offset < 0) {  // float formats: values of moderate size
    for (int64_t i = 0; i < n; ++i) {
      const float v = rng.uniform();
      if (c.type == GGMLType::F32) std::memcpy(&raw[4 * i], &v, 4);
      else put_half(&raw[2 * i], c.type == GGMLType::F16 ? fp32_to_fp16(v) : fp32_to_bf16(v));
    }
    return raw;
  }
  for (uint8_t& byte : raw) byte = static_cast<uint8_t>(rng.u32());
  for (size_t b = 0; b < raw.size(); b += info.type_size) {
    put_half(&raw[b + c.d_offset], rng.half(-10, -4));
    if (c.m_offset >= 0) put_half(&raw[b + c.m_offset], rng.half(-10, -4));
  }
  return raw;
}

std::vector<float> magnitudes(const WeightCase& c, const std::vector<uint8_t>& raw, int64_t n) {
  const auto& table = kernels::reference_kernels();
  std::vector<uint8_t> fixed = raw;
  if (c.d_offset >= 0) {
    const uint32_t type_size = ggml_type_info(c.type).type_size;
    for (size_t b = 0; b < fixed.size(); b += type_size) {
      fixed[b + c.d_offset + 1] &= 0x7f;
      if (c.m_offset >= 0) {
        fixed[b + c.m_offset + 1] = c.m_added ? (fixed[b + c.m_offset + 1] & 0x7f) : (fixed[b + c.m_offset + 1] | 0x80);
      }
    }
  }
  std::vector<float> mag(static_cast<size_t>(n));
  table.for_type(c.type).dequantize(fixed.data(), mag.data(), n);
  for (float& v : mag) v = std::fabs(v);
  return mag;
}

}  // namespace

// |dot - double dot of dequantized operands| <= rel * A, A = sum |a_i| * magnitude_i (so the
// bound does not depend on cancellation). For the block formats rel = (B + 8) eps, B the number
// of blocks: up to 4 roundings per block in the dot (d_w*d_a, int->float, product, difference),
// B-1 in the float accumulation, and up to 4 per element in dequantizing w and a. Q4_1/Q5_1 add
// 2^-10: the activation's s = fp16(d * sum q) differs from the dequantized sum by two fp16
// roundings (of s and of d). F32/F16/BF16 dots accumulate in double: 2 eps.
TEST(reference_dots_match_double_dot_of_dequantized) {
  const auto& table = kernels::reference_kernels();
  Rng rng(20240531);
  for (const WeightCase& c : kWeightCases) {
    const kernels::WeightKernels& k = table.for_type(c.type);
    const GGMLTypeInfo& act = ggml_type_info(k.activation_type);
    const uint32_t block = ggml_type_info(c.type).block_size == 1 ? 32 : ggml_type_info(c.type).block_size;
    for (int blocks : {1, 2, 7, 33}) {
      for (int trial = 0; trial < 8; ++trial) {
        const int64_t n = static_cast<int64_t>(blocks) * block;
        const std::vector<uint8_t> w = random_weights(c, n, rng);
        std::vector<float> x(static_cast<size_t>(n)), wf(x.size()), af(x.size());
        for (float& v : x) v = rng.uniform() * 4.0f;
        std::vector<uint8_t> a;
        if (k.activation_type == GGMLType::F32) {
          a.resize(x.size() * 4);
          std::memcpy(a.data(), x.data(), a.size());
        } else {
          a.resize(static_cast<size_t>(n / act.block_size * act.type_size));
          table.quantizer(k.activation_type)(x.data(), a.data(), n);
        }
        k.dequantize(w.data(), wf.data(), n);
        table.for_type(k.activation_type).dequantize(a.data(), af.data(), n);
        const std::vector<float> mag = magnitudes(c, w, n);
        double exact = 0.0, scale = 0.0;
        for (int64_t i = 0; i < n; ++i) {
          exact += static_cast<double>(wf[i]) * af[i];
          scale += static_cast<double>(mag[i]) * std::fabs(af[i]);
        }
        double rel = (blocks + 8) * kEps32;
        if (c.d_offset < 0) rel = 2 * kEps32;
        if (c.m_added) rel += 1.001 / 1024;
        const double got = k.dot(n, w.data(), a.data());
        CHECK_MSG(std::fabs(got - exact) <= rel * scale,
                  std::string(k.dot_name) + " blocks=" + std::to_string(blocks) + " got " + std::to_string(got) +
                      " want " + std::to_string(exact));
      }
    }
  }
}
