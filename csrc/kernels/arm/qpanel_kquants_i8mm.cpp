// Prefill panels for Q4_K, Q5_K and Q6_K on i8mm (smmla; qpanel_i8mm.cpp explains the instruction):
// one smmla multiplies 8 quants of a row pair by the same 8 activation quants of a token pair.
// The panel is the dotprod k-quant panel (qpanel_kquants_arm.h) reordered, as qpanel_i8mm.cpp
// reorders the legacy panels: per super-block column (8 rows)
//   Q4_K (2816 bytes): float dw[16], dmin[16] in lane order [d0 d0 d1 d1], [d2 d2 d3 d3], ...;
//     int32 sc[8][16] (sub-block j, the same lane order); int16 m[8][8] (sub-block j, row r);
//     then per sub-block j and row pair p four vectors [row 2p: elements 8c..8c+7][row 2p + 1].
//   Q6_K (3136 bytes): float dw[16]; int32 sc[16][16]; then per pair of 16-element sub-blocks
//     and row pair, four vectors as above (chunks 0-1: the first sub-block, 2-3: the second).
// Lanes are (row, token) = [(2p, t0), (2p, t1), (2p + 1, t0), (2p + 1, t1)]. The integer sums are
// the dotprod panel's, exact, and each lane's float step is the GEMV's in its order, so every
// output equals the one-row dot bit for bit.
#include <arm_neon.h>

#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/qpanel_kquants_arm.h"
#include "kernels/arm/qpanel_mmla_arm.h"

namespace ple::kernels {
namespace {

constexpr size_t kQ4KMmlaQuantsAt = 2 * 16 * sizeof(float) + 8 * 16 * sizeof(int32_t) + 8 * kGroupRows * sizeof(int16_t);
constexpr size_t kQ4KMmlaBytes = kQ4KMmlaQuantsAt + kGroupRows * kQK_K;  // 2816
constexpr size_t kQ6KMmlaQuantsAt = 16 * sizeof(float) + 16 * 16 * sizeof(int32_t);
constexpr size_t kQ6KMmlaBytes = kQ6KMmlaQuantsAt + kGroupRows * kQK_K;  // 3136

// Eight values of 8 rows (two vectors, rows 0..3 and 4..7) -> 16 in lane order [v0 v0 v1 v1] ...
inline void store_lane_pairs(const float* in, float* out) {
  const float32x4_t lo = vld1q_f32(in), hi = vld1q_f32(in + 4);
  vst1q_f32(out, vzip1q_f32(lo, lo));
  vst1q_f32(out + 4, vzip2q_f32(lo, lo));
  vst1q_f32(out + 8, vzip1q_f32(hi, hi));
  vst1q_f32(out + 12, vzip2q_f32(hi, hi));
}
inline void store_lane_pairs(const int32_t* in, int32_t* out) {
  const int32x4_t lo = vld1q_s32(in), hi = vld1q_s32(in + 4);
  vst1q_s32(out, vzip1q_s32(lo, lo));
  vst1q_s32(out + 4, vzip2q_s32(lo, lo));
  vst1q_s32(out + 8, vzip1q_s32(hi, hi));
  vst1q_s32(out + 12, vzip2q_s32(hi, hi));
}

// The 32 elements of rows 0..7 in the dotprod panel's words (vectors [h][8]: half h, elements
// 4k..4k+3 of rows 4h..4h+3) -> four row pairs x four 8-element chunks: zipping word vectors 2c
// and 2c + 1 by 32-bit lanes gives rows (4h, 4h+1) and (4h+2, 4h+3) of chunk c.
inline void reorder_quants32(const int8_t* in_half0, const int8_t* in_half1, int8_t* out) {
  const int8_t* in[2] = {in_half0, in_half1};
  for (int h = 0; h < 2; ++h) {
    const auto* q = reinterpret_cast<const uint32_t*>(in[h]);
    for (int c = 0; c < 4; ++c) {
      const uint32x4_t a = vld1q_u32(q + 4 * (2 * c)), b = vld1q_u32(q + 4 * (2 * c + 1));
      vst1q_s8(out + 64 * (2 * h) + 16 * c, vreinterpretq_s8_u32(vzip1q_u32(a, b)));
      vst1q_s8(out + 64 * (2 * h + 1) + 16 * c, vreinterpretq_s8_u32(vzip2q_u32(a, b)));
    }
  }
}

void reorder_q4_k_block(const uint8_t* in, uint8_t* out) {
  const auto* f = reinterpret_cast<const float*>(in);
  auto* g = reinterpret_cast<float*>(out);
  store_lane_pairs(f, g);           // dw
  store_lane_pairs(f + 8, g + 16);  // dmin
  const auto* sc = reinterpret_cast<const int32_t*>(in + 64);
  auto* sc_out = reinterpret_cast<int32_t*>(out + 128);
  for (int j = 0; j < 8; ++j) store_lane_pairs(sc + 8 * j, sc_out + 16 * j);
  std::memcpy(out + 128 + 8 * 16 * sizeof(int32_t), in + 64 + 8 * kGroupRows * sizeof(int32_t), 8 * kGroupRows * sizeof(int16_t));
  const auto* q = reinterpret_cast<const int8_t*>(in + kQ4KPanelQuantsAt);
  auto* o = reinterpret_cast<int8_t*>(out + kQ4KMmlaQuantsAt);
  for (int j = 0; j < 8; ++j) reorder_quants32(q + 128 * (2 * j), q + 128 * (2 * j + 1), o + 256 * j);
}

void reorder_q6_k_block(const uint8_t* in, uint8_t* out) {
  store_lane_pairs(reinterpret_cast<const float*>(in), reinterpret_cast<float*>(out));
  const auto* sc = reinterpret_cast<const int32_t*>(in + 32);
  auto* sc_out = reinterpret_cast<int32_t*>(out + 64);
  for (int j = 0; j < 16; ++j) store_lane_pairs(sc + 8 * j, sc_out + 16 * j);
  const auto* q = reinterpret_cast<const int8_t*>(in + kQ6KPanelQuantsAt);
  auto* o = reinterpret_cast<int8_t*>(out + kQ6KMmlaQuantsAt);
  for (int p = 0; p < 8; ++p) reorder_quants32(q + 128 * (2 * p), q + 128 * (2 * p + 1), o + 256 * p);
}

// Group (or file rows) -> the dotprod panel's block on the stack -> the smmla block.
template <size_t kMmlaBytes, size_t kDotBytes, void (*kReorder)(const uint8_t*, uint8_t*), class Expand>
void build_k_mmla_panel(int64_t n, void* panel, Expand expand) {
  alignas(16) uint8_t block[kDotBytes];
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    expand(b, block);
    kReorder(block, static_cast<uint8_t*>(panel) + b * kMmlaBytes);
  }
}

// Two tokens' Q8_K blocks: elements 8c..8c+7 of both (token 0 first) for the 32 elements at
// `offset`, and their scales in lane order.
struct KTokenPair {
  const BlockQ8_K* x0;
  const BlockQ8_K* x1;
  float32x4_t d;  // [d0 d1 d0 d1]
  void chunks(int offset, int8x16_t c[4]) const {
    const int64x2_t a_lo = vreinterpretq_s64_s8(vld1q_s8(x0->qs + offset)), a_hi = vreinterpretq_s64_s8(vld1q_s8(x0->qs + offset + 16));
    const int64x2_t b_lo = vreinterpretq_s64_s8(vld1q_s8(x1->qs + offset)), b_hi = vreinterpretq_s64_s8(vld1q_s8(x1->qs + offset + 16));
    c[0] = vreinterpretq_s8_s64(vzip1q_s64(a_lo, b_lo));
    c[1] = vreinterpretq_s8_s64(vzip2q_s64(a_lo, b_lo));
    c[2] = vreinterpretq_s8_s64(vzip1q_s64(a_hi, b_hi));
    c[3] = vreinterpretq_s8_s64(vzip2q_s64(a_hi, b_hi));
  }
};

inline KTokenPair k_token_pair(const BlockQ8_K* x0, const BlockQ8_K* x1) {
  const float d[4] = {x0->d, x1->d, x0->d, x1->d};
  return KTokenPair{x0, x1, vld1q_f32(d)};
}

// The Q4_K minimum sums of one token for rows 0..3 and 4..7 (q4_k_min_sums), and the two tokens'
// in lane order for row pair p.
inline int32x4_t min_sums_lanes(const int32x4_t t0[2], const int32x4_t t1[2], int p) {
  const int32x4_t a = t0[p / 2], b = t1[p / 2];
  return p % 2 == 0 ? vzip1q_s32(a, b) : vzip2q_s32(a, b);
}

inline int32x4_t mmla4(int32x4_t acc, const int8x16_t w[4], const int8x16_t a[4], int first, int count) {
  for (int c = first; c < first + count; ++c) acc = vmmlaq_s32(acc, w[c], a[c]);
  return acc;
}

// Each smmla panel format: its block's bytes, `integer_sums` (isum[k][p] += the exact integer sums
// of row pair p against token pair k over one super-block column, each weight vector serving every
// pair) and `finish` (the GEMV's float step for one token pair's four row pairs, in its order).
struct Q4KMmla {
  static constexpr size_t kBytes = kQ4KMmlaBytes;
  template <int kPairs>
  static void integer_sums(const uint8_t* panel, const KTokenPair* pair, int32x4_t isum[][4]) {
    const auto* sc = reinterpret_cast<const int32_t*>(panel + 128);
    const auto* q = reinterpret_cast<const int8_t*>(panel + kQ4KMmlaQuantsAt);
    for (int j = 0; j < 8; ++j) {
      int8x16_t act[kPairs][4];
      for (int k = 0; k < kPairs; ++k) pair[k].chunks(32 * j, act[k]);
      for (int p = 0; p < 4; ++p) {
        int8x16_t w[4];
        for (int c = 0; c < 4; ++c) w[c] = vld1q_s8(q + 256 * j + 64 * p + 16 * c);
        const int32x4_t scale = vld1q_s32(sc + 16 * j + 4 * p);
        for (int k = 0; k < kPairs; ++k) isum[k][p] = vmlaq_s32(isum[k][p], mmla4(vdupq_n_s32(0), w, act[k], 0, 4), scale);
      }
    }
  }
  static void finish(float32x4_t acc[4], const uint8_t* panel, const KTokenPair& pair, const int32x4_t isum[4]) {
    const auto* f = reinterpret_cast<const float*>(panel);
    const auto* m = reinterpret_cast<const int16_t*>(panel + 128 + 8 * 16 * sizeof(int32_t));
    int32x4_t msum0[2], msum1[2];
    const int16x8_t pairs0 = vpaddq_s16(vld1q_s16(pair.x0->bsums), vld1q_s16(pair.x0->bsums + 8));
    const int16x8_t pairs1 = vpaddq_s16(vld1q_s16(pair.x1->bsums), vld1q_s16(pair.x1->bsums + 8));
    for (int h = 0; h < 2; ++h) {
      msum0[h] = q4_k_min_sums(m, pairs0, h);
      msum1[h] = q4_k_min_sums(m, pairs1, h);
    }
    for (int p = 0; p < 4; ++p) {
      const float32x4_t d = vmulq_f32(vld1q_f32(f + 4 * p), pair.d), dmin = vmulq_f32(vld1q_f32(f + 16 + 4 * p), pair.d);
      const int32x4_t msum = min_sums_lanes(msum0, msum1, p);
      acc[p] = vaddq_f32(acc[p], vsubq_f32(vmulq_f32(d, vcvtq_f32_s32(isum[p])), vmulq_f32(dmin, vcvtq_f32_s32(msum))));
    }
  }
};

// Q6_K: pairs of 16-element sub-blocks, each with its scale.
struct Q6KMmla {
  static constexpr size_t kBytes = kQ6KMmlaBytes;
  template <int kPairs>
  static void integer_sums(const uint8_t* panel, const KTokenPair* pair, int32x4_t isum[][4]) {
    const auto* sc = reinterpret_cast<const int32_t*>(panel + 64);
    const auto* q = reinterpret_cast<const int8_t*>(panel + kQ6KMmlaQuantsAt);
    for (int s = 0; s < 8; ++s) {  // sub-blocks 2s and 2s + 1
      int8x16_t act[kPairs][4];
      for (int k = 0; k < kPairs; ++k) pair[k].chunks(32 * s, act[k]);
      for (int p = 0; p < 4; ++p) {
        int8x16_t w[4];
        for (int c = 0; c < 4; ++c) w[c] = vld1q_s8(q + 256 * s + 64 * p + 16 * c);
        const int32x4_t first_scale = vld1q_s32(sc + 16 * (2 * s) + 4 * p), second_scale = vld1q_s32(sc + 16 * (2 * s + 1) + 4 * p);
        for (int k = 0; k < kPairs; ++k) {
          const int32x4_t first = mmla4(vdupq_n_s32(0), w, act[k], 0, 2), second = mmla4(vdupq_n_s32(0), w, act[k], 2, 2);
          isum[k][p] = vmlaq_s32(vmlaq_s32(isum[k][p], first, first_scale), second, second_scale);
        }
      }
    }
  }
  static void finish(float32x4_t acc[4], const uint8_t* panel, const KTokenPair& pair, const int32x4_t isum[4]) {
    const auto* f = reinterpret_cast<const float*>(panel);
    for (int p = 0; p < 4; ++p) acc[p] = vaddq_f32(acc[p], vmulq_f32(vmulq_f32(vld1q_f32(f + 4 * p), pair.d), vcvtq_f32_s32(isum[p])));
  }
};

// kPairs token pairs (pair k: tokens[2k], tokens[2k + 1]) against the 8 rows of a panel. Kept out of
// line: inlined into the token loop, gcc compiles its sub-block loop worse (Q4_K 93 instructions
// for two pairs instead of 84, Q6_K 129 instead of 104).
template <class Panel, int kPairs>
__attribute__((noinline)) void k_mmla_pass(int64_t nb, const uint8_t* panel, const uint8_t* const* tokens, float* const* out) {
  float32x4_t acc[kPairs][4];
  for (int k = 0; k < kPairs; ++k) {
    for (int p = 0; p < 4; ++p) acc[k][p] = vdupq_n_f32(0.0f);
  }
  for (int64_t b = 0; b < nb; ++b, panel += Panel::kBytes) {
    KTokenPair pair[kPairs];
    for (int k = 0; k < kPairs; ++k) {
      pair[k] = k_token_pair(reinterpret_cast<const BlockQ8_K*>(tokens[2 * k]) + b, reinterpret_cast<const BlockQ8_K*>(tokens[2 * k + 1]) + b);
    }
    int32x4_t isum[kPairs][4];
    for (int k = 0; k < kPairs; ++k) {
      for (int p = 0; p < 4; ++p) isum[k][p] = vdupq_n_s32(0);
    }
    Panel::template integer_sums<kPairs>(panel, pair, isum);
    for (int k = 0; k < kPairs; ++k) Panel::finish(acc[k], panel, pair[k], isum[k]);
  }
  for (int k = 0; k < kPairs; ++k) store_pair(acc[k], out[2 * k], out[2 * k + 1]);
}

template <class Panel>
void k_mmla_gemm(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride) {
  const auto* p = static_cast<const uint8_t*>(panel);
  for_token_pairs(a, a_stride, n_tokens, out, out_stride, [&](auto pairs, const uint8_t* const* tokens, float* const* outs) {
    k_mmla_pass<Panel, decltype(pairs)::value>(n / kQK_K, p, tokens, outs);
  });
}

}  // namespace

size_t panel_bytes_q4_k__i8mm(int64_t n) { return static_cast<size_t>(n / kQK_K) * kQ4KMmlaBytes; }
size_t panel_bytes_q6_k__i8mm(int64_t n) { return static_cast<size_t>(n / kQK_K) * kQ6KMmlaBytes; }

void pack_panel_q4_k__i8mm(int64_t n, const void* w, size_t w_stride, void* panel) {
  uint8_t column[kQ4KGroupBytes];
  build_k_mmla_panel<kQ4KMmlaBytes, kQ4KPanelBytes, reorder_q4_k_block>(n, panel, [&](int64_t b, uint8_t* block) {
    pack_q4_k_block(static_cast<const uint8_t*>(w), w_stride, b, column);
    expand_q4_k_block(column, block);
  });
}
void pack_panel_q6_k__i8mm(int64_t n, const void* w, size_t w_stride, void* panel) {
  uint8_t column[kQ6KGroupBytes];
  build_k_mmla_panel<kQ6KMmlaBytes, kQ6KPanelBytes, reorder_q6_k_block>(n, panel, [&](int64_t b, uint8_t* block) {
    pack_q6_k_block(static_cast<const uint8_t*>(w), w_stride, b, column);
    expand_q6_k_block(column, block);
  });
}
// Q5_K: Q4_K's panel (quants 0..31), packed from the file's rows; its table slot takes Q4_K's
// panel size and token loop.
void pack_panel_q5_k__i8mm(int64_t n, const void* w, size_t w_stride, void* panel) {
  uint8_t column[kQ5KGroupBytes];
  build_k_mmla_panel<kQ4KMmlaBytes, kQ4KPanelBytes, reorder_q4_k_block>(n, panel, [&](int64_t b, uint8_t* block) {
    pack_q5_k_block(static_cast<const uint8_t*>(w), w_stride, b, column);
    expand_q5_k_block(column, block);
  });
}
void pack_panel_from_q5_kx8__i8mm(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  build_k_mmla_panel<kQ4KMmlaBytes, kQ4KPanelBytes, reorder_q4_k_block>(n, panel, [&](int64_t b, uint8_t* block) {
    expand_q5_k_block(static_cast<const uint8_t*>(group) + b * kQ5KGroupBytes, block);
  });
}
void pack_panel_from_q4_kx8__i8mm(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  build_k_mmla_panel<kQ4KMmlaBytes, kQ4KPanelBytes, reorder_q4_k_block>(n, panel, [&](int64_t b, uint8_t* block) {
    expand_q4_k_block(static_cast<const uint8_t*>(group) + b * kQ4KGroupBytes, block);
  });
}
// Q3_K: Q6_K's format (qpanel_kquants_arm.h), from the file's rows only.
void pack_panel_q3_k__i8mm(int64_t n, const void* w, size_t w_stride, void* panel) {
  build_k_mmla_panel<kQ6KMmlaBytes, kQ6KPanelBytes, reorder_q6_k_block>(n, panel, [&](int64_t b, uint8_t* block) {
    pack_q3_k_panel_block(static_cast<const uint8_t*>(w), w_stride, b, block);
  });
}
void pack_panel_from_q6_kx8__i8mm(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  build_k_mmla_panel<kQ6KMmlaBytes, kQ6KPanelBytes, reorder_q6_k_block>(n, panel, [&](int64_t b, uint8_t* block) {
    expand_q6_k_block(static_cast<const uint8_t*>(group) + b * kQ6KGroupBytes, block);
  });
}

void qpanel_q4_k_q8_k__i8mm(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                            size_t out_stride) {
  k_mmla_gemm<Q4KMmla>(n, panel, a, a_stride, n_tokens, out, out_stride);
}
void qpanel_q6_k_q8_k__i8mm(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                            size_t out_stride) {
  k_mmla_gemm<Q6KMmla>(n, panel, a, a_stride, n_tokens, out, out_stride);
}

}  // namespace ple::kernels
