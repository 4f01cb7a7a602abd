// Decode GEMVs over rows packed once at load time (kernel_table.h, PackedKernels) for Q4_0, Q4_1
// and Q8_0, 8 rows per group, as templates over the tier (kDotprod: sdot by lane; otherwise NEON
// widening multiplies). Layouts and the four-row dot: qpacked_core_arm.h. Each activation block
// is prepared once per pass and serves the pass's groups (up to four: 32 rows). Included only by
// qgemv_packed_neon.cpp and qgemv_packed_dotprod.cpp; internal linkage.
#pragma once
#include <utility>

#include "kernels/arm/qpacked_core_arm.h"

namespace ple::kernels {
namespace {

// Each format: its group's bytes per block column, its activation block type, and `step`, which
// adds one block column of one group to the group's two accumulators (rows 0..3, 4..7).
template <bool kDotprod>
struct Q4_0x8 {
  using Activation = BlockQ8_0;
  static constexpr size_t kGroupBytes = kQ40GroupBytes;
  struct Prepared {
    ActivationBlock<kDotprod> q;
    float d;
    explicit Prepared(const BlockQ8_0& a) : q(a.qs), d(half_to_float(a.d)) {}
  };
  static void step(const uint8_t* p, const Prepared& a, float32x4_t acc[2]) {
    float32x4_t dw[2];
    load_scales8(p, dw[0], dw[1]);
    for (int h = 0; h < 2; ++h) {
      int8x16_t v[8];
      if constexpr (kDotprod) {
        offset_nibble_half_quants_x16(p + 16 + 64 * h, v);
        acc[h] = accumulate_x16(acc[h], dw[h], a.d, rows4_dot<kDotprod, false>(v, a.q));
      } else {
        offset_nibble_half_quants(p + 16 + 64 * h, v);
        acc[h] = accumulate(acc[h], dw[h], a.d, rows4_dot<kDotprod, true>(v, a.q));
      }
    }
  }
};

template <bool kDotprod>
struct Q4_1x8 {
  using Activation = BlockQ8_1;
  static constexpr size_t kGroupBytes = kQ41GroupBytes;
  struct Prepared {
    ActivationBlock<kDotprod> q;
    float d, s;
    explicit Prepared(const BlockQ8_1& a) : q(a.qs), d(half_to_float(a.d)), s(half_to_float(a.s)) {}
  };
  static void step(const uint8_t* p, const Prepared& a, float32x4_t acc[2]) {
    float32x4_t dw[2], m[2];
    load_scales8(p, dw[0], dw[1]);
    load_scales8(p + 16, m[0], m[1]);
    for (int h = 0; h < 2; ++h) {
      int8x16_t v[8];
      nibble_half_quants(p + 32 + 64 * h, v);
      acc[h] = accumulate_min(acc[h], dw[h], a.d, rows4_dot<kDotprod, true>(v, a.q), m[h], a.s);
    }
  }
};

template <bool kDotprod>
struct Q8_0x8 {
  using Activation = BlockQ8_0;
  static constexpr size_t kGroupBytes = kQ80GroupBytes;
  struct Prepared {
    ActivationBlock<kDotprod> q;
    float d;
    explicit Prepared(const BlockQ8_0& a) : q(a.qs), d(half_to_float(a.d)) {}
  };
  static void step(const uint8_t* p, const Prepared& a, float32x4_t acc[2]) {
    float32x4_t dw[2];
    load_scales8(p, dw[0], dw[1]);
    for (int h = 0; h < 2; ++h) {
      int8x16_t v[8];
      int8_half_quants(reinterpret_cast<const int8_t*>(p + 16 + 128 * h), v);
      acc[h] = accumulate(acc[h], dw[h], a.d, rows4_dot<kDotprod, false>(v, a.q));
    }
  }
};

// One pass over the groups kG... (consecutive, group_bytes apart) with every block column's
// activation prepared once; the groups are spelled out at compile time so that their
// accumulators stay in registers.
template <class Format, int... kG>
void run_pass(int64_t nb, const uint8_t* p, size_t group_bytes, const typename Format::Activation* act, float* out,
              std::integer_sequence<int, kG...>) {
  constexpr int kGroups = sizeof...(kG);
  float32x4_t acc[kGroups][2];
  for (int g = 0; g < kGroups; ++g) acc[g][0] = acc[g][1] = vdupq_n_f32(0.0f);
  for (int64_t b = 0; b < nb; ++b, p += Format::kGroupBytes) {
    const typename Format::Prepared prepared(act[b]);
    (Format::step(p + kG * group_bytes, prepared, acc[kG]), ...);
  }
  for (int g = 0; g < kGroups; ++g) {
    vst1q_f32(out + g * kGroupRows, acc[g][0]);
    vst1q_f32(out + g * kGroupRows + 4, acc[g][1]);
  }
}

// out[g * 8 + r] = dot(row 8g + r, a) for n_groups consecutive groups.
template <class Format>
void gemv_groups(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  const int64_t nb = n / kQK;
  const size_t group_bytes = static_cast<size_t>(nb) * Format::kGroupBytes;
  const auto* act = static_cast<const typename Format::Activation*>(a);
  const auto pass = [&](int64_t first, auto groups_in_pass) {
    const uint8_t* p = static_cast<const uint8_t*>(groups) + static_cast<size_t>(first) * group_bytes;
    run_pass<Format>(nb, p, group_bytes, act, out + first * kGroupRows, groups_in_pass);
  };
  int64_t g = 0;
  for (; g + 2 <= n_groups; g += 2) pass(g, std::make_integer_sequence<int, 2>());
  for (; g < n_groups; ++g) pass(g, std::make_integer_sequence<int, 1>());
}

}  // namespace
}  // namespace ple::kernels
