// Every usable SIMD kernel table against the scalar __ref twins, on the same inputs, over a shape
// taxonomy (1, 2, 7, 33 and 64 blocks) and extreme values. What is required:
// - Quantizers (Q8_0, Q8_1, Q8_K): byte-identical blocks, NaN/Inf/ties/subnormal inputs included.
// - Dots, integer parts: bit-identical results whenever every float operation of both is exact
//   (unit-sized power-of-two scales and a total magnitude S <= 2^24), on random, all-0x00 and
//   all-0xFF quant bytes against activation quants of random, 127, -127 and -128.
// - Dots, float part (accumulation order differs): with eps = 2^-24, B blocks and
//   A = sum_i |w_i| |a_i| (|w_i| = |d*sc*q_i| + |dmin*m|, from the dequantized magnitudes),
//     block formats:   |dot - ref| <= (2B + 16) eps A   (+ 2^-140 n for underflowing scales)
//     F32/F16/BF16:    |dot - ref| <= (n/16 + 24) eps A
//   Each of the two results is within (B + 8) eps A of the exact dot (one rounding per block
//   and lane, a short reduction tree, the d_w * d_a product), hence the sum.
// - axpy_f16: bit-identical; dot_f16_f32 as the F16 dot.
// - Activations (softmax, silu_mul): their exp is a polynomial, so each output is within
//   8 eps |ref| (+ 2^-126 where the reference is subnormal and the SIMD path flushes to 0) of the
//   reference; special values (0, +-Inf, NaN, overflow) as the reference; and a row's result does
//   not depend on where it sits in memory, bit for bit.
// Prints which table active_kernels() chose (the qemu guard in tests/test_kernels_isa.py reads it).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "core/fp16.h"
#include "kernels/cpu_features.h"
#include "kernels/kernel_table.h"
#include "quant/blocks.h"
#include "quant/ggml_types.h"

using namespace ple;
using kernels::KernelTable;

namespace {

constexpr double kEps = 1.0 / 16777216.0;
const int kShapes[] = {1, 2, 7, 33, 64};

struct Rng {
  std::mt19937 gen;
  explicit Rng(uint32_t seed) : gen(seed) {}
  uint32_t u32() { return static_cast<uint32_t>(gen()); }
  float uniform() { return static_cast<float>(u32() >> 8) * (2.0f / 16777216.0f) - 1.0f; }  // [-1, 1)
  int range(int lo, int hi) { return lo + static_cast<int>(u32() % static_cast<uint32_t>(hi - lo + 1)); }
  uint16_t half(int lo, int hi) {  // normal half, either sign, magnitude in [2^lo, 2^hi)
    const float mag = std::ldexp(1.0f + static_cast<float>(u32() >> 9) / 8388608.0f, range(lo, hi - 1));
    return fp32_to_fp16((u32() & 1) ? -mag : mag);
  }
};

void put16(uint8_t* p, uint16_t h) { std::memcpy(p, &h, 2); }

struct TypeCase {
  GGMLType type;
  int d_offset;  // byte offset of the fp16 scale (-1: float format)
  int m_offset;  // byte offset of the fp16 min (-1: none)
  bool m_added;  // x = d*q + m (Q4_1, Q5_1) rather than d*sc*q - dmin*m
};
const TypeCase kTypes[] = {
    {GGMLType::F32, -1, -1, false},  {GGMLType::F16, -1, -1, false},  {GGMLType::BF16, -1, -1, false},
    {GGMLType::Q4_0, 0, -1, false},  {GGMLType::Q5_0, 0, -1, false},  {GGMLType::Q8_0, 0, -1, false},
    {GGMLType::Q4_1, 0, 2, true},    {GGMLType::Q5_1, 0, 2, true},    {GGMLType::Q2_K, 80, 82, false},
    {GGMLType::Q3_K, 108, -1, false}, {GGMLType::Q4_K, 0, 2, false},  {GGMLType::Q5_K, 0, 2, false},
    {GGMLType::Q6_K, 208, -1, false},
};

bool is_float_type(GGMLType t) { return t == GGMLType::F32 || t == GGMLType::F16 || t == GGMLType::BF16; }
int64_t unit_elems(GGMLType t) { return is_float_type(t) ? 32 : ggml_type_info(t).block_size; }
size_t row_bytes(GGMLType t, int64_t n) {
  const GGMLTypeInfo& info = ggml_type_info(t);
  return static_cast<size_t>(n / info.block_size * info.type_size);
}

struct Isa {
  const char* name;
  const KernelTable* table;
};
// Every usable table but the reference itself.
std::vector<Isa> simd_isas() {
  std::vector<Isa> out;
  int count = 0;
  const char* const* names = kernels::usable_isas(&count);
  for (int i = 0; i < count; ++i) {
    const KernelTable* t = kernels::kernel_table_for(names[i]);
    if (t != nullptr && t != &kernels::reference_kernels()) out.push_back({names[i], t});
  }
  return out;
}

// ---- inputs ----

enum class Scales { kRealistic, kExtreme, kUnit };
enum class Quants { kRandom, kZeros, kOnes };

// Unit scales: +-1, +-2, +-4 or +-0, so every product of the dot is an integer.
uint16_t unit_half(Rng& rng) {
  static const uint16_t values[] = {0x3c00, 0xbc00, 0x4000, 0xc000, 0x4400, 0xc400, 0x0000, 0x8000};
  return values[rng.u32() % 8];
}
// Extreme scales: 65504, smallest and largest subnormal, smallest normal, +-0, and ordinary ones.
uint16_t extreme_half(Rng& rng) {
  static const uint16_t values[] = {0x7bff, 0xfbff, 0x0001, 0x8001, 0x03ff, 0x0400, 0x0000, 0x8000};
  return (rng.u32() % 3 == 0) ? rng.half(-10, -4) : values[rng.u32() % 8];
}

std::vector<uint8_t> make_weights(const TypeCase& c, int64_t n, Rng& rng, Scales scales, Quants quants) {
  std::vector<uint8_t> raw(row_bytes(c.type, n));
  if (c.d_offset < 0) {  // float formats
    for (int64_t i = 0; i < n; ++i) {
      float v = rng.uniform();
      if (scales == Scales::kUnit) v = static_cast<float>(rng.range(-16, 16));
      if (scales == Scales::kExtreme && rng.u32() % 4 == 0) {
        static const float special[] = {65504.0f, -65504.0f, 5.96e-8f, -6.1e-5f, 0.0f, -0.0f};
        v = special[rng.u32() % 6];
      }
      if (c.type == GGMLType::F32) std::memcpy(&raw[4 * i], &v, 4);
      else put16(&raw[2 * i], c.type == GGMLType::F16 ? fp32_to_fp16(v) : fp32_to_bf16(v));
    }
    return raw;
  }
  for (uint8_t& byte : raw) byte = quants == Quants::kRandom ? static_cast<uint8_t>(rng.u32()) : quants == Quants::kZeros ? 0x00 : 0xff;
  const uint32_t size = ggml_type_info(c.type).type_size;
  for (size_t b = 0; b < raw.size(); b += size) {
    for (int off : {c.d_offset, c.m_offset}) {
      if (off < 0) continue;
      const uint16_t h = scales == Scales::kUnit ? unit_half(rng) : scales == Scales::kExtreme ? extreme_half(rng) : rng.half(-10, -4);
      put16(&raw[b + off], h);
    }
  }
  return raw;
}

// Activation quants chosen directly: every pattern the format can hold, -128 included.
enum class ActQuants { kQuantized, kRandom, kMax, kMinusMax, kMinus128, kAlternating };

// Fills the derived fields (Q8_1: s = fp16(d * sum q); Q8_K: bsums) from the quants.
void finish_activation(GGMLType act, uint8_t* block) {
  if (act == GGMLType::Q8_1) {
    auto* b = reinterpret_cast<BlockQ8_1*>(block);
    int sum = 0;
    for (int8_t q : b->qs) sum += q;
    b->s = fp32_to_fp16(fp16_to_fp32(b->d) * static_cast<float>(sum));
  } else if (act == GGMLType::Q8_K) {
    auto* b = reinterpret_cast<BlockQ8_K*>(block);
    for (int j = 0; j < 16; ++j) {
      int sum = 0;
      for (int i = 0; i < 16; ++i) sum += b->qs[16 * j + i];
      b->bsums[j] = static_cast<int16_t>(sum);
    }
  }
}

// Activation bytes for weight type c: quantized random floats (kQuantized, with the given float
// magnitude), or quants set directly with unit scale d = 1 (or +-limit-bounded random quants).
std::vector<uint8_t> make_activations(GGMLType act, int64_t n, Rng& rng, ActQuants pattern, float magnitude, int limit = 128) {
  if (act == GGMLType::F32) {
    std::vector<uint8_t> raw(static_cast<size_t>(n) * 4);
    for (int64_t i = 0; i < n; ++i) {
      const float v = pattern == ActQuants::kQuantized ? rng.uniform() * magnitude : static_cast<float>(rng.range(-64, 64));
      std::memcpy(&raw[4 * i], &v, 4);
    }
    return raw;
  }
  const GGMLTypeInfo& info = ggml_type_info(act);
  std::vector<uint8_t> raw(row_bytes(act, n));
  if (pattern == ActQuants::kQuantized) {
    std::vector<float> x(static_cast<size_t>(n));
    for (float& v : x) v = rng.uniform() * magnitude;
    kernels::reference_kernels().quantizer(act)(x.data(), raw.data(), n);
    return raw;
  }
  for (size_t b = 0; b < raw.size(); b += info.type_size) {
    uint8_t* block = &raw[b];
    int8_t* qs = reinterpret_cast<int8_t*>(block + 4);  // Q8_0: d at 0, qs at 2
    if (act == GGMLType::Q8_0) {
      put16(block, 0x3c00);
      qs = reinterpret_cast<int8_t*>(block + 2);
    } else if (act == GGMLType::Q8_1) {
      put16(block, 0x3c00);
    } else {
      const float one = 1.0f;
      std::memcpy(block, &one, 4);
    }
    for (uint32_t i = 0; i < info.block_size; ++i) {
      int v = 0;
      switch (pattern) {
        case ActQuants::kRandom: v = rng.range(-limit, limit - 1); break;
        case ActQuants::kMax: v = 127; break;
        case ActQuants::kMinusMax: v = -127; break;
        case ActQuants::kMinus128: v = -128; break;
        case ActQuants::kAlternating: v = (i % 2) ? -128 : 127; break;
        case ActQuants::kQuantized: break;
      }
      qs[i] = static_cast<int8_t>(v);
    }
    finish_activation(act, block);
  }
  return raw;
}

// A = sum |w_i| |a_i| with |w_i| = |d*sc*q_i| + |dmin*m| (dequantizing with the sign of d
// cleared and that of the min set or cleared, as in test_quant_ref.cpp), plus |m * s| per
// block for Q4_1/Q5_1 (their s is rounded to fp16 on its own).
double magnitude_sum(const TypeCase& c, const std::vector<uint8_t>& w, const std::vector<uint8_t>& a, int64_t n) {
  const KernelTable& ref = kernels::reference_kernels();
  const GGMLType act = ref.for_type(c.type).activation_type;
  std::vector<uint8_t> fixed = w;
  const uint32_t size = ggml_type_info(c.type).type_size;
  if (c.d_offset >= 0) {
    for (size_t b = 0; b < fixed.size(); b += size) {
      fixed[b + c.d_offset + 1] &= 0x7f;
      if (c.m_offset >= 0) fixed[b + c.m_offset + 1] = c.m_added ? (fixed[b + c.m_offset + 1] & 0x7f) : (fixed[b + c.m_offset + 1] | 0x80);
    }
  }
  std::vector<float> wm(static_cast<size_t>(n)), af(static_cast<size_t>(n));
  ref.for_type(c.type).dequantize(fixed.data(), wm.data(), n);
  ref.for_type(act).dequantize(a.data(), af.data(), n);
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += std::fabs(static_cast<double>(wm[i])) * std::fabs(static_cast<double>(af[i]));
  if (c.m_added) {
    for (int64_t b = 0; b < n / 32; ++b) {
      uint16_t m, s16;
      std::memcpy(&m, &w[b * size + c.m_offset], 2);
      std::memcpy(&s16, &a[b * sizeof(BlockQ8_1) + 2], 2);
      s += std::fabs(static_cast<double>(fp16_to_fp32(m)) * fp16_to_fp32(s16));
    }
  }
  return s;
}

std::string label(const Isa& isa, const char* kernel, int blocks, const std::string& what) {
  return std::string(isa.name) + " " + kernel + " blocks=" + std::to_string(blocks) + " " + what;
}

void check_bound(const Isa& isa, const TypeCase& c, const std::vector<uint8_t>& w, const std::vector<uint8_t>& a,
                 int64_t n, int blocks, const std::string& what) {
  const kernels::WeightKernels& k = isa.table->for_type(c.type);
  const float got = k.dot(n, w.data(), a.data());
  const float want = kernels::reference_kernels().for_type(c.type).dot(n, w.data(), a.data());
  const double A = magnitude_sum(c, w, a, n);
  const int64_t nb = n / ggml_type_info(c.type).block_size;
  const double rel = is_float_type(c.type) ? static_cast<double>(n) / 16 + 24 : 2.0 * static_cast<double>(nb) + 16;
  const double bound = rel * kEps * A + std::ldexp(static_cast<double>(n), -140);
  const bool ok = std::isfinite(want) ? std::fabs(static_cast<double>(got) - want) <= bound : std::isnan(want) ? std::isnan(got) : got == want;
  CHECK_MSG(ok, label(isa, k.dot_name, blocks, what) + ": got " + std::to_string(got) + " want " + std::to_string(want) +
                    " bound " + std::to_string(bound));
}

}  // namespace

TEST(kernels_isa_report) {
  const KernelTable& active = kernels::active_kernels();
  int n_usable = 0, n_built = 0;
  const char* const* usable = kernels::usable_isas(&n_usable);
  const char* const* built = kernels::built_isas(&n_built);
  std::string u, b;
  for (int i = 0; i < n_usable; ++i) u += std::string(i ? "," : "") + usable[i];
  for (int i = 0; i < n_built; ++i) b += std::string(i ? "," : "") + built[i];
  const char* cap = kernels::isa_cap();
  std::printf("kernels: chosen isa=%s usable=%s built=%s cap=%s\n", active.isa, u.c_str(), b.c_str(), cap ? cap : "(none)");
  CHECK(n_usable >= 1 && std::strcmp(usable[0], "scalar") == 0);
  CHECK(kernels::kernel_table_for("scalar") == &kernels::reference_kernels());
  CHECK(kernels::kernel_table_for("SCALAR") == &kernels::reference_kernels());
  CHECK(kernels::kernel_table_for("no-such-isa") == nullptr);
  CHECK(kernels::kernel_table_for(nullptr) == nullptr);
  bool chosen_usable = false;
  for (int i = 0; i < n_usable; ++i) {
    const KernelTable* t = kernels::kernel_table_for(usable[i]);
    CHECK_MSG(t != nullptr && std::strcmp(t->isa, usable[i]) == 0, usable[i]);
    if (t == &active) chosen_usable = true;
  }
  CHECK(chosen_usable);
  if (cap == nullptr) CHECK_MSG(std::strcmp(active.isa, usable[n_usable - 1]) == 0, "widest usable table is active");
  // Every table fills every slot the reference fills.
  for (int i = 0; i < n_usable; ++i) {
    const KernelTable& t = *kernels::kernel_table_for(usable[i]);
    for (const TypeCase& c : kTypes) {
      CHECK_MSG(t.for_type(c.type).dot != nullptr && t.for_type(c.type).dequantize != nullptr, t.isa);
      CHECK(t.for_type(c.type).activation_type == kernels::reference_kernels().for_type(c.type).activation_type);
    }
    for (GGMLType q : {GGMLType::Q8_0, GGMLType::Q8_1, GGMLType::Q8_K}) CHECK(t.quantizer(q) != nullptr);
    CHECK(t.dot_f16_f32 != nullptr && t.axpy_f16 != nullptr);
    CHECK(t.softmax != nullptr && t.silu_mul != nullptr);
  }
  // Features implied by the usable tables.
  const kernels::CpuFeatures& f = kernels::cpu_features();
  if (kernels::kernel_table_for("avx2") != nullptr) CHECK(f.avx2 && f.fma && f.f16c);
}

TEST(kernels_isa_quantize_byte_identical) {
  const std::vector<Isa> isas = simd_isas();
  Rng rng(11);
  for (GGMLType act : {GGMLType::Q8_0, GGMLType::Q8_1, GGMLType::Q8_K}) {
    const int64_t block = ggml_type_info(act).block_size;
    for (int blocks : kShapes) {
      const int64_t n = blocks * block;
      for (int trial = 0; trial < 8; ++trial) {
        std::vector<float> x(static_cast<size_t>(n));
        const float scale = std::ldexp(1.0f, rng.range(-20, 20));
        for (float& v : x) v = rng.uniform() * scale;
        if (trial == 1) {  // exact ties with d = 1: k + 0.5 and the 127 that sets the scale
          for (int64_t i = 0; i < n; ++i) x[i] = (i % block == 0) ? 127.0f : static_cast<float>(rng.range(-127, 126)) + 0.5f;
        }
        if (trial == 2) {  // specials scattered over the blocks
          const float specials[] = {INFINITY, -INFINITY, NAN, -NAN, 0.0f, -0.0f, 1e-45f, -1e-40f, 3.4e38f, -3.4e38f};
          for (float s : specials) x[rng.u32() % n] = s;
        }
        if (trial == 3) {  // tiny blocks: d is subnormal and 1/d overflows (the quotient path)
          for (float& v : x) v *= 1e-37f / scale;
        }
        if (trial == 4) {
          for (int64_t i = 0; i < n; ++i) x[i] = (i / block) % 2 ? 0.0f : -0.0f;  // all-zero blocks
        }
        if (trial == 5) {  // ties just below and above 0.5 steps
          for (int64_t i = 0; i < n; ++i) x[i] = (i % block == 0) ? 127.0f : std::nextafter(static_cast<float>(rng.range(-127, 126)) + 0.5f, (i % 2) ? 1e9f : -1e9f);
        }
        const size_t bytes = row_bytes(act, n);
        std::vector<uint8_t> want(bytes), got(bytes);
        kernels::reference_kernels().quantizer(act)(x.data(), want.data(), n);
        for (const Isa& isa : isas) {
          std::memset(got.data(), 0xa5, bytes);
          isa.table->quantizer(act)(x.data(), got.data(), n);
          CHECK_MSG(got == want, std::string(isa.name) + " quantize " + ggml_type_name(act) + " blocks=" + std::to_string(blocks) +
                                     " trial=" + std::to_string(trial));
        }
      }
    }
  }
}

// Integer parts: with unit scales every float operation of either dot is exact while the total
// magnitude S stays <= 2^24, so the results must be equal. Activation ranges are halved until
// S fits (patterns at full range are tried first).
TEST(kernels_isa_dot_integer_parts_exact) {
  const std::vector<Isa> isas = simd_isas();
  Rng rng(22);
  int exact_checks = 0;
  for (const TypeCase& c : kTypes) {
    const GGMLType act = kernels::reference_kernels().for_type(c.type).activation_type;
    for (int blocks : kShapes) {
      const int64_t n = blocks * unit_elems(c.type);
      for (Quants quants : {Quants::kRandom, Quants::kZeros, Quants::kOnes}) {
        for (ActQuants pattern : {ActQuants::kRandom, ActQuants::kMax, ActQuants::kMinusMax, ActQuants::kMinus128, ActQuants::kAlternating}) {
          if (is_float_type(c.type) && (quants != Quants::kRandom || pattern != ActQuants::kRandom)) continue;
          const std::vector<uint8_t> w = make_weights(c, n, rng, Scales::kUnit, quants);
          std::vector<uint8_t> a;
          double S = 0.0;
          for (int limit = 128; limit >= 1; limit /= 2) {
            a = make_activations(act, n, rng, limit == 128 ? pattern : ActQuants::kRandom, 1.0f, limit);
            S = magnitude_sum(c, w, a, n);
            if (S <= 16777216.0) break;
          }
          if (S > 16777216.0) continue;
          const float want = kernels::reference_kernels().for_type(c.type).dot(n, w.data(), a.data());
          for (const Isa& isa : isas) {
            const kernels::WeightKernels& k = isa.table->for_type(c.type);
            const float got = k.dot(n, w.data(), a.data());
            ++exact_checks;
            CHECK_MSG(got == want, label(isa, k.dot_name, blocks, "exact pattern") + " q=" + std::to_string(static_cast<int>(quants)) +
                                       " a=" + std::to_string(static_cast<int>(pattern)) + ": got " + std::to_string(got) +
                                       " want " + std::to_string(want));
          }
        }
      }
    }
  }
  if (!isas.empty()) CHECK(exact_checks > 500);
}

// The minimum terms of Q2_K/Q4_K/Q5_K come from the activation's bsums as stored (as in the
// reference), at the int16 extremes: zero quants leave -dmin * d_a * msum, computed alike.
TEST(kernels_isa_dot_bsums_extremes) {
  const std::vector<Isa> isas = simd_isas();
  Rng rng(33);
  for (const TypeCase& c : kTypes) {
    if (c.type != GGMLType::Q2_K && c.type != GGMLType::Q4_K && c.type != GGMLType::Q5_K) continue;
    for (int blocks : {1, 2}) {
      const int64_t n = blocks * 256;
      std::vector<uint8_t> w = make_weights(c, n, rng, Scales::kUnit, Quants::kOnes);
      std::vector<uint8_t> a = make_activations(GGMLType::Q8_K, n, rng, ActQuants::kRandom, 1.0f);
      for (int b = 0; b < blocks; ++b) {
        auto* blk = reinterpret_cast<BlockQ8_K*>(&a[b * sizeof(BlockQ8_K)]);
        std::memset(blk->qs, 0, sizeof blk->qs);
        for (int j = 0; j < 16; ++j) blk->bsums[j] = static_cast<int16_t>(j % 3 == 0 ? -32768 : j % 3 == 1 ? 32767 : -32767);
      }
      const float want = kernels::reference_kernels().for_type(c.type).dot(n, w.data(), a.data());
      for (const Isa& isa : isas) {
        const float got = isa.table->for_type(c.type).dot(n, w.data(), a.data());
        CHECK_MSG(got == want, label(isa, isa.table->for_type(c.type).dot_name, blocks, "bsums") + " got " + std::to_string(got) +
                                   " want " + std::to_string(want));
      }
    }
  }
}

// Float part: realistic and extreme scales (65504, subnormal, +-0), quantized activations of
// several magnitudes and raw activation patterns, within the bound stated at the top.
TEST(kernels_isa_dot_float_bound) {
  const std::vector<Isa> isas = simd_isas();
  Rng rng(44);
  for (const TypeCase& c : kTypes) {
    const GGMLType act = kernels::reference_kernels().for_type(c.type).activation_type;
    for (int blocks : kShapes) {
      const int64_t n = blocks * unit_elems(c.type);
      for (int trial = 0; trial < 12; ++trial) {
        const Scales scales = trial % 3 == 2 ? Scales::kExtreme : Scales::kRealistic;
        const Quants quants = trial == 9 ? Quants::kZeros : trial == 10 ? Quants::kOnes : Quants::kRandom;
        const std::vector<uint8_t> w = make_weights(c, n, rng, scales, quants);
        const ActQuants pattern = trial < 6 ? ActQuants::kQuantized : static_cast<ActQuants>(1 + trial % 5);
        const float magnitude = std::ldexp(1.0f, rng.range(-12, 20));
        const std::vector<uint8_t> a = make_activations(act, n, rng, pattern, magnitude);
        for (const Isa& isa : isas) check_bound(isa, c, w, a, n, blocks, "trial " + std::to_string(trial));
      }
    }
  }
}

TEST(kernels_isa_attention_f16) {
  const std::vector<Isa> isas = simd_isas();
  Rng rng(55);
  for (int64_t n : {1, 7, 8, 15, 16, 31, 32, 33, 64, 100, 128, 257, 2048}) {
    std::vector<uint16_t> x(static_cast<size_t>(n));
    std::vector<float> y(static_cast<size_t>(n)), y0(static_cast<size_t>(n));
    double A = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      x[i] = fp32_to_fp16(rng.uniform() * 4.0f);
      y[i] = rng.uniform() * 8.0f;
      A += std::fabs(static_cast<double>(fp16_to_fp32(x[i])) * y[i]);
    }
    const float a = rng.uniform();
    const float want = kernels::reference_kernels().dot_f16_f32(n, x.data(), y.data());
    std::vector<float> want_y = y;
    kernels::reference_kernels().axpy_f16(n, a, x.data(), want_y.data());
    for (const Isa& isa : isas) {
      const float got = isa.table->dot_f16_f32(n, x.data(), y.data());
      CHECK_MSG(std::fabs(static_cast<double>(got) - want) <= (static_cast<double>(n) / 16 + 24) * kEps * A,
                std::string(isa.table->dot_f16_f32_name) + " n=" + std::to_string(n));
      std::vector<float> got_y = y;
      isa.table->axpy_f16(n, a, x.data(), got_y.data());
      CHECK_MSG(std::memcmp(got_y.data(), want_y.data(), got_y.size() * sizeof(float)) == 0,
                std::string(isa.table->axpy_f16_name) + " n=" + std::to_string(n));
    }
  }
}

namespace {

// Equal as the reference (both NaN, or the same value), or within the activations' bound.
bool activation_close(float got, float want) {
  if (std::isnan(want) || std::isinf(want)) return std::isnan(want) ? std::isnan(got) : got == want;
  return std::fabs(static_cast<double>(got) - want) <= 8 * kEps * std::fabs(static_cast<double>(want)) + std::ldexp(1.0, -126);
}

}  // namespace

TEST(kernels_isa_activations_within_bound) {
  const std::vector<Isa> isas = simd_isas();
  Rng rng(77);
  for (int64_t n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100, 257, 2048, 8195}) {
    for (float spread : {1.0f, 10.0f, 60.0f, 200.0f}) {  // 200: many e^x below the normal range
      std::vector<float> x(static_cast<size_t>(n)), up(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        x[i] = rng.uniform() * spread;
        up[i] = rng.uniform() * 4.0f;
      }
      std::vector<float> want_soft = x, want_silu = x;
      kernels::reference_kernels().softmax(want_soft.data(), n);
      kernels::reference_kernels().silu_mul(want_silu.data(), up.data(), n);
      for (const Isa& isa : isas) {
        std::vector<float> got_soft = x, got_silu = x;
        isa.table->softmax(got_soft.data(), n);
        isa.table->silu_mul(got_silu.data(), up.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          const std::string where = " n=" + std::to_string(n) + " spread=" + std::to_string(spread) + " i=" + std::to_string(i);
          CHECK_MSG(activation_close(got_soft[i], want_soft[i]), std::string(isa.table->softmax_name) + where + " got " +
                    std::to_string(got_soft[i]) + " want " + std::to_string(want_soft[i]));
          CHECK_MSG(activation_close(got_silu[i], want_silu[i]), std::string(isa.table->silu_mul_name) + where + " got " +
                    std::to_string(got_silu[i]) + " want " + std::to_string(want_silu[i]));
        }
      }
    }
  }
}

TEST(kernels_isa_activations_special_values) {
  const float inf = INFINITY, nan = NAN;
  // silu(g) * up at the edges of exp's range and beyond, signed zeros, infinities and NaN.
  const std::vector<float> g = {0.0f, -0.0f, 1e-30f, -1e-30f, 88.72f, -88.72f, 88.8f, -88.8f, 87.4f, -87.4f, 103.9f,
                                -103.9f, 200.0f, -200.0f, inf, -inf, nan, 3.0f, -3.0f};
  const std::vector<float> up(g.size(), 1.5f);
  std::vector<float> want = g;
  kernels::reference_kernels().silu_mul(want.data(), up.data(), static_cast<int64_t>(g.size()));
  // Softmax rows with an infinite or NaN entry, all equal entries, one dominant entry.
  const std::vector<std::vector<float>> rows = {{0.0f, -inf, 1.0f}, {nan, 1.0f, 2.0f}, {5.0f, 5.0f, 5.0f, 5.0f, 5.0f},
                                                {1000.0f, 0.0f, -1000.0f}, {-1e30f, 1e30f}};
  for (const Isa& isa : simd_isas()) {
    std::vector<float> got = g;
    isa.table->silu_mul(got.data(), up.data(), static_cast<int64_t>(g.size()));
    for (size_t i = 0; i < g.size(); ++i) {
      CHECK_MSG(activation_close(got[i], want[i]), std::string(isa.table->silu_mul_name) + " g=" + std::to_string(g[i]) +
                " got " + std::to_string(got[i]) + " want " + std::to_string(want[i]));
    }
    for (const std::vector<float>& row : rows) {
      std::vector<float> w = row, s = row;
      kernels::reference_kernels().softmax(w.data(), static_cast<int64_t>(w.size()));
      isa.table->softmax(s.data(), static_cast<int64_t>(s.size()));
      for (size_t i = 0; i < row.size(); ++i) {
        CHECK_MSG(activation_close(s[i], w[i]), std::string(isa.table->softmax_name) + " special row, i=" + std::to_string(i));
      }
    }
  }
}

// A row's activations are the same wherever the row sits: a batch row and a decode row (or two
// threads' chunks) reach the kernel at different alignments.
TEST(kernels_isa_activations_independent_of_alignment) {
  Rng rng(88);
  for (int64_t n : {5, 13, 64, 301}) {
    std::vector<float> x(static_cast<size_t>(n)), up(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      x[i] = rng.uniform() * 20.0f;
      up[i] = rng.uniform();
    }
    for (const Isa& isa : simd_isas()) {
      std::vector<float> soft0 = x, silu0 = x;
      isa.table->softmax(soft0.data(), n);
      isa.table->silu_mul(silu0.data(), up.data(), n);
      for (int offset = 1; offset < 16; ++offset) {
        std::vector<float> buf(static_cast<size_t>(n + offset)), up_buf(static_cast<size_t>(n + offset));
        std::copy(x.begin(), x.end(), buf.begin() + offset);
        std::copy(up.begin(), up.end(), up_buf.begin() + offset);
        isa.table->softmax(buf.data() + offset, n);
        CHECK_MSG(std::memcmp(buf.data() + offset, soft0.data(), soft0.size() * sizeof(float)) == 0,
                  std::string(isa.table->softmax_name) + " offset " + std::to_string(offset));
        std::copy(x.begin(), x.end(), buf.begin() + offset);
        isa.table->silu_mul(buf.data() + offset, up_buf.data() + offset, n);
        CHECK_MSG(std::memcmp(buf.data() + offset, silu0.data(), silu0.size() * sizeof(float)) == 0,
                  std::string(isa.table->silu_mul_name) + " offset " + std::to_string(offset));
      }
    }
  }
}

// The multi-head attention kernels equal the same table's per-position dot_f16_f32 / axpy_f16
// loops bit for bit, over head sizes with and without a tail, head counts over the 8-head batch,
// and rows at a stride with slack (a KV row holds every KV head).
TEST(kernels_isa_attend_f16_equal_per_position) {
  Rng rng(56);
  int checked = 0;
  for (const Isa& isa : simd_isas()) {
    const kernels::KernelTable& t = *isa.table;
    if (t.attend_scores_f16 == nullptr) continue;
    CHECK(t.attend_values_f16 != nullptr);
    for (int64_t hd : {8, 20, 44, 64, 128, 256}) {
      for (int64_t n_q : {1, 3, 4, 9}) {
        for (int64_t n_rows : {1, 7, 33}) {
          const size_t row_stride = static_cast<size_t>(hd) * 3 + 5;  // halves between positions
          std::vector<uint16_t> k(row_stride * n_rows), v(row_stride * n_rows);
          for (auto& h : k) h = fp32_to_fp16(rng.uniform() * 4.0f);
          for (auto& h : v) h = fp32_to_fp16(rng.uniform() * 4.0f);
          std::vector<float> q(static_cast<size_t>(hd * n_q)), s(static_cast<size_t>(n_rows * n_q));
          for (auto& x : q) x = rng.uniform() * 2.0f;
          for (auto& x : s) x = rng.uniform();
          const float scale = 0.125f;
          std::vector<float> got_s(s.size()), want_s(s.size());
          t.attend_scores_f16(n_rows, hd, k.data(), row_stride, q.data(), hd, n_q, scale, got_s.data(), n_rows);
          std::vector<float> out0(static_cast<size_t>(hd * n_q));
          for (auto& x : out0) x = rng.uniform();
          std::vector<float> got_o = out0, want_o = out0;
          t.attend_values_f16(n_rows, hd, v.data(), row_stride, s.data(), n_rows, n_q, got_o.data(), hd);
          for (int64_t j = 0; j < n_q; ++j) {
            for (int64_t p = 0; p < n_rows; ++p) {
              want_s[j * n_rows + p] = t.dot_f16_f32(hd, k.data() + p * row_stride, q.data() + j * hd) * scale;
              t.axpy_f16(hd, s[j * n_rows + p], v.data() + p * row_stride, want_o.data() + j * hd);
            }
          }
          const std::string where = " hd=" + std::to_string(hd) + " n_q=" + std::to_string(n_q) + " rows=" + std::to_string(n_rows);
          CHECK_MSG(std::memcmp(got_s.data(), want_s.data(), got_s.size() * sizeof(float)) == 0, "attend_scores" + where);
          CHECK_MSG(std::memcmp(got_o.data(), want_o.data(), got_o.size() * sizeof(float)) == 0, "attend_values" + where);
          ++checked;
        }
      }
    }
  }
  if (kernels::kernel_table_for("avx2") != nullptr) CHECK(checked > 0);
}

// F32/F16/BF16 dots at lengths that are not multiples of the vector width (their block size is 1).
TEST(kernels_isa_float_dots_odd_lengths) {
  const std::vector<Isa> isas = simd_isas();
  Rng rng(66);
  for (int k = 0; k < 3; ++k) {
    const TypeCase& c = kTypes[k];
    for (int64_t n : {1, 3, 8, 9, 17, 63, 65, 127, 1000}) {
      const std::vector<uint8_t> w = make_weights(c, n, rng, Scales::kRealistic, Quants::kRandom);
      const std::vector<uint8_t> a = make_activations(GGMLType::F32, n, rng, ActQuants::kQuantized, 3.0f);
      for (const Isa& isa : isas) check_bound(isa, c, w, a, n, static_cast<int>(n), "odd length");
    }
  }
}

// The Q8_0 KV-cache axpy equals its __ref twin bit for bit, for realistic and extreme scales
// (including zero, subnormal and Inf/NaN block scales from make_weights) and every quant pattern.
TEST(kernels_isa_attention_q8_0_axpy) {
  const std::vector<Isa> isas = simd_isas();
  const TypeCase* q8 = nullptr;
  for (const TypeCase& c : kTypes) {
    if (c.type == GGMLType::Q8_0) q8 = &c;
  }
  CHECK(q8 != nullptr);
  Rng rng(77);
  for (int blocks : kShapes) {
    const int64_t n = blocks * unit_elems(GGMLType::Q8_0);
    for (int trial = 0; trial < 9; ++trial) {
      const Scales scales = trial % 3 == 2 ? Scales::kExtreme : trial % 3 == 1 ? Scales::kUnit : Scales::kRealistic;
      const Quants quants = trial / 3 == 1 ? Quants::kZeros : trial / 3 == 2 ? Quants::kOnes : Quants::kRandom;
      const std::vector<uint8_t> x = make_weights(*q8, n, rng, scales, quants);
      std::vector<float> y(static_cast<size_t>(n));
      for (float& v : y) v = rng.uniform() * 8.0f;
      const float a = trial == 4 ? 0.0f : rng.uniform();
      std::vector<float> want = y;
      kernels::reference_kernels().axpy_q8_0(n, a, x.data(), want.data());
      for (const Isa& isa : isas) {
        CHECK(isa.table->axpy_q8_0 != nullptr);
        std::vector<float> got = y;
        isa.table->axpy_q8_0(n, a, x.data(), got.data());
        CHECK_MSG(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)) == 0,
                  std::string(isa.table->axpy_q8_0_name) + " n=" + std::to_string(n) + " trial " + std::to_string(trial));
      }
    }
  }
}

// Operands of the multi-row kernel tests (tiles, panels, interleaved rows) for one trial: `rows`
// weight rows and `tokens` activation rows, each alone and copied at a stride with slack as in a
// real matrix. Trials cycle through realistic and extreme scales, random and all-ones quants, and
// quantized and raw activation byte patterns.
struct RowOperands {
  std::vector<std::vector<uint8_t>> w, a;
  size_t w_stride = 0, a_stride = 0;
  std::vector<uint8_t> w_all, a_all;
};

RowOperands make_row_operands(const TypeCase& c, GGMLType act_type, int64_t n, int rows, int tokens, int trial, Rng& rng) {
  const Scales scales = trial % 3 == 2 ? Scales::kExtreme : Scales::kRealistic;
  const Quants quants = trial == 4 ? Quants::kOnes : Quants::kRandom;
  const ActQuants pattern = trial < 3 ? ActQuants::kQuantized : static_cast<ActQuants>(1 + trial % 5);
  RowOperands o;
  for (int r = 0; r < rows; ++r) o.w.push_back(make_weights(c, n, rng, scales, quants));
  for (int t = 0; t < tokens; ++t) o.a.push_back(make_activations(act_type, n, rng, pattern, std::ldexp(1.0f, rng.range(-8, 12))));
  o.w_stride = o.w[0].size() + 64;
  o.a_stride = o.a[0].size() + 36;
  o.w_all.assign(o.w_stride * rows, 0);
  o.a_all.assign(o.a_stride * tokens, 0);
  for (int r = 0; r < rows; ++r) std::memcpy(o.w_all.data() + r * o.w_stride, o.w[r].data(), o.w[r].size());
  for (int t = 0; t < tokens; ++t) std::memcpy(o.a_all.data() + t * o.a_stride, o.a[t].data(), o.a[t].size());
  return o;
}

// A multi-row kernel's output against the table's dot of the same pair: the same float, or both NaN.
void check_equals_dot(const kernels::WeightKernels& wk, const RowOperands& o, int64_t n, int r, int t, float got,
                      const char* name, int trial) {
  const float want = wk.dot(n, o.w[r].data(), o.a[t].data());
  CHECK_MSG(std::memcmp(&got, &want, sizeof got) == 0 || (std::isnan(got) && std::isnan(want)),
            std::string(name) + " n=" + std::to_string(n) + " r=" + std::to_string(r) + " t=" + std::to_string(t) +
                " trial " + std::to_string(trial));
}

// Q8_0 weight quants of -128 in every copy of the operands become -127; returns how many there were.
int clamp_q8_0_min_quants(RowOperands& o) {
  int changed = 0;
  const auto clamp = [&](uint8_t* row, size_t bytes, bool count) {
    for (size_t b = 0; b + sizeof(BlockQ8_0) <= bytes; b += sizeof(BlockQ8_0)) {
      auto* x = reinterpret_cast<BlockQ8_0*>(row + b);
      for (int8_t& q : x->qs) {
        if (q == -128) {
          q = -127;
          changed += count ? 1 : 0;
        }
      }
    }
  };
  for (size_t r = 0; r < o.w.size(); ++r) {
    clamp(o.w[r].data(), o.w[r].size(), true);
    clamp(o.w_all.data() + r * o.w_stride, o.w[r].size(), false);
  }
  return changed;
}

// Tiles (R rows x T tokens per call) equal the same table's dot of every pair bit for bit, for
// every ISA and type that has them, over the shape taxonomy, extreme scales and raw activation
// patterns; rows and activation rows sit at strides with slack, as in a real matrix.
TEST(kernels_isa_tiles_equal_dot) {
  Rng rng(88);
  int checked = 0;
  for (const Isa& isa : simd_isas()) {
    for (const TypeCase& c : kTypes) {
      const kernels::WeightKernels& wk = isa.table->for_type(c.type);
      for (const kernels::TileKernel* tile : {&wk.decode_tile, &wk.prefill_tile}) {
        if (tile->fn == nullptr) continue;
        CHECK(tile->rows * tile->tokens <= kernels::kMaxTileOutputs && tile->name != nullptr);
        for (int blocks : kShapes) {
          const int64_t n = blocks * unit_elems(c.type);
          for (int trial = 0; trial < 6; ++trial) {
            const RowOperands o = make_row_operands(c, wk.activation_type, n, tile->rows, tile->tokens, trial, rng);
            float out[kernels::kMaxTileOutputs];
            tile->fn(n, o.w_all.data(), o.w_stride, o.a_all.data(), o.a_stride, out);
            for (int r = 0; r < tile->rows; ++r) {
              for (int t = 0; t < tile->tokens; ++t) {
                check_equals_dot(wk, o, n, r, t, out[r * tile->tokens + t], tile->name, trial);
                ++checked;
              }
            }
          }
        }
      }
    }
  }
  // On x86 with AVX2 the legacy formats have tiles; elsewhere there may be none to check.
  if (kernels::kernel_table_for("avx2") != nullptr) CHECK(checked > 0);
}

// Panel kernels (pack 8 rows, stream tokens) equal the same table's dot of every pair bit for bit,
// over the shape taxonomy, extreme scales, raw activation patterns and token counts that leave
// every remainder of the token passes; rows and activations sit at strides with slack, outputs at
// a row stride.
TEST(kernels_isa_panels_equal_dot) {
  Rng rng(89);
  int checked = 0;
  for (const Isa& isa : simd_isas()) {
    for (const TypeCase& c : kTypes) {
      const kernels::WeightKernels& wk = isa.table->for_type(c.type);
      const kernels::PanelKernel& panel = wk.prefill_panel;
      if (panel.gemm == nullptr) continue;
      CHECK(panel.pack != nullptr && panel.panel_bytes != nullptr && panel.rows > 0 && panel.name != nullptr);
      for (int blocks : kShapes) {
        const int64_t n = blocks * unit_elems(c.type);
        for (int trial = 0; trial < 6; ++trial) {
          // Every remainder of the kernels' token passes (2, 3 or 4 tokens each) and a whole chunk.
          constexpr int kTokenCounts[6] = {1, 2, 3, 5, 8, 16};
          const int tokens = kTokenCounts[trial];
          const RowOperands o = make_row_operands(c, wk.activation_type, n, panel.rows, tokens, trial, rng);
          const size_t out_stride = panel.rows + 5;
          std::vector<uint8_t> packed(panel.panel_bytes(n));
          std::vector<float> out(out_stride * tokens, -1.0f);
          panel.pack(n, o.w_all.data(), o.w_stride, packed.data());
          panel.gemm(n, packed.data(), o.a_all.data(), o.a_stride, tokens, out.data(), out_stride);
          for (int t = 0; t < tokens; ++t) {
            for (int r = 0; r < panel.rows; ++r) {
              check_equals_dot(wk, o, n, r, t, out[t * out_stride + r], panel.name, trial);
              ++checked;
            }
            // Outside the panel's rows nothing is written.
            for (size_t r = panel.rows; r < out_stride; ++r) CHECK(out[t * out_stride + r] == -1.0f);
          }
        }
      }
    }
  }
  // x86 with AVX2 and every AArch64 CPU (NEON) have them.
  if (kernels::kernel_table_for("avx2") != nullptr || kernels::kernel_table_for("neon") != nullptr) CHECK(checked > 0);
}

// Interleaved rows (load-time layout): the decode GEMV over several groups and the prefill panel
// built from one group equal the same table's dot of every pair bit for bit.
TEST(kernels_isa_interleaved_equal_dot) {
  Rng rng(90);
  int checked = 0;
  for (const Isa& isa : simd_isas()) {
    for (const TypeCase& c : kTypes) {
      const kernels::WeightKernels& wk = isa.table->for_type(c.type);
      const kernels::PackedKernels& il = wk.packed;
      if (il.pack == nullptr) continue;
      CHECK(il.gemv != nullptr && il.group_bytes != nullptr && il.pack_panel != nullptr && il.rows > 0 && il.name != nullptr);
      CHECK(wk.prefill_panel.gemm != nullptr && wk.prefill_panel.rows == il.rows);
      for (int blocks : kShapes) {
        const int64_t n = blocks * unit_elems(c.type);
        for (int trial = 0; trial < 6; ++trial) {
          const int n_groups = 1 + trial % 3, n_rows = n_groups * il.rows;
          RowOperands o = make_row_operands(c, wk.activation_type, n, n_rows, 1, trial, rng);
          if (il.accepts != nullptr) {
            // Q8_0's GEMV needs weights without -128 (quantizers never write it): the check must
            // refuse exactly the matrices that have one, and the kernels run on weights without.
            CHECK(c.type == GGMLType::Q8_0);
            CHECK(il.accepts(n, o.w_all.data(), o.w_stride, n_rows) == (clamp_q8_0_min_quants(o) == 0));
            CHECK(il.accepts(n, o.w_all.data(), o.w_stride, n_rows));
          }
          const size_t row_bytes = o.w[0].size(), group_bytes = il.group_bytes(n);
          // The same bytes rearranged (Q4_0, Q4_1, Q8_0), or a few more (Q4_K keeps its scales unpacked).
          CHECK(group_bytes >= row_bytes * il.rows && group_bytes <= row_bytes * il.rows * 105 / 100);
          std::vector<uint8_t> groups(group_bytes * n_groups);
          for (int g = 0; g < n_groups; ++g) {
            il.pack(n, o.w_all.data() + g * il.rows * o.w_stride, o.w_stride, groups.data() + g * group_bytes);
          }
          std::vector<float> out(n_rows);
          il.gemv(n, groups.data(), n_groups, o.a_all.data(), out.data());
          std::vector<uint8_t> panel(wk.prefill_panel.panel_bytes(n));
          std::vector<float> panel_out(il.rows);
          for (int g = 0; g < n_groups; ++g) {
            il.pack_panel(n, groups.data() + g * group_bytes, 0, panel.data());
            wk.prefill_panel.gemm(n, panel.data(), o.a_all.data(), o.a_stride, 1, panel_out.data(), 0);
            for (int r = 0; r < il.rows; ++r) {
              check_equals_dot(wk, o, n, g * il.rows + r, 0, out[g * il.rows + r], il.name, trial);
              check_equals_dot(wk, o, n, g * il.rows + r, 0, panel_out[r], il.name, trial);
              checked += 2;
            }
          }
        }
      }
    }
  }
  // x86 with AVX2 and every AArch64 CPU (NEON) have them.
  if (kernels::kernel_table_for("avx2") != nullptr || kernels::kernel_table_for("neon") != nullptr) CHECK(checked > 0);
}

// Several tokens over interleaved rows at once (the decode steps of batched sessions): every
// token's outputs equal the dot bit for bit, for 1 to 6 tokens (the kernels take four at a time).
TEST(kernels_isa_packed_gemv_tokens_equal_dot) {
  Rng rng(91);
  int checked = 0;
  for (const Isa& isa : simd_isas()) {
    for (const TypeCase& c : kTypes) {
      const kernels::WeightKernels& wk = isa.table->for_type(c.type);
      const kernels::PackedKernels& il = wk.packed;
      if (il.pack == nullptr || il.gemv_tokens == nullptr) continue;
      for (int blocks : kShapes) {
        const int64_t n = blocks * unit_elems(c.type);
        for (int trial = 0; trial < 6; ++trial) {
          const int n_groups = 1 + trial % 3, n_rows = n_groups * il.rows, tokens = 1 + trial;
          RowOperands o = make_row_operands(c, wk.activation_type, n, n_rows, tokens, trial, rng);
          if (il.accepts != nullptr) clamp_q8_0_min_quants(o);
          const size_t group_bytes = il.group_bytes(n);
          std::vector<uint8_t> groups(group_bytes * n_groups);
          for (int g = 0; g < n_groups; ++g) {
            il.pack(n, o.w_all.data() + g * il.rows * o.w_stride, o.w_stride, groups.data() + g * group_bytes);
          }
          const size_t out_stride = static_cast<size_t>(n_rows) + 3;
          std::vector<float> out(out_stride * tokens, -1.0f);
          il.gemv_tokens(n, groups.data(), n_groups, o.a_all.data(), o.a_stride, tokens, out.data(), out_stride);
          for (int t = 0; t < tokens; ++t) {
            for (int r = 0; r < n_rows; ++r) {
              check_equals_dot(wk, o, n, r, t, out[t * out_stride + r], il.name, trial);
              ++checked;
            }
            for (size_t r = n_rows; r < out_stride; ++r) CHECK(out[t * out_stride + r] == -1.0f);  // nothing else written
          }
        }
      }
    }
  }
  if (kernels::kernel_table_for("avx2") != nullptr) CHECK(checked > 0);
}
