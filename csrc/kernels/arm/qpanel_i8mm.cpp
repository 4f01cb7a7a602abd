// Prefill panels for Q4_0, Q4_1 and Q8_0 on i8mm (armv8.2-a+dotprod+i8mm: Apple M2 and newer,
// Neoverse V1/N2): smmla multiplies a 2x8 int8 matrix by the transpose of another into a 2x2
// int32 accumulator, C[i][j] += sum_k A[i][k] * B[j][k]. With A = 8 quants of two weight rows
// and B = the same 8 elements of two tokens, one instruction does the 32 multiplies of four
// dots; four of them cover a 32-element block.
//
// Panel block (8 rows): float dw[16] = the rows' scales in lane order [d0 d0 d1 d1], [d2 d2 d3
// d3], ... (Q4_1 then m[16] alike), then per row pair p and chunk c the 16 bytes [row 2p: elements
// 8c..8c+7][row 2p + 1: the same] as int8 (Q4_0: q - 8). A pair of tokens' blocks is zipped the
// same way once per block for all four row pairs. Per lane (row r, token t) the float part is the
// __ref twin's in its order, so every output equals the one-row dot bit for bit. The panel is
// built from the dotprod panel (qpanel_arm.h) by 32-bit zips.
#include <arm_neon.h>

#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/qpanel_arm.h"
#include "kernels/arm/qpanel_mmla_arm.h"

namespace ple::kernels {
namespace {

template <bool kMin>
constexpr size_t mmla_block_bytes() {
  return (kMin ? 128 : 64) + kPanelQuantBytes;
}
template <bool kMin>
size_t mmla_panel_bytes(int64_t n) {
  return static_cast<size_t>(n / kQK) * mmla_block_bytes<kMin>();
}

// One block of the dotprod panel (float d[8] [, m[8]], int8 four-row words) -> the smmla panel.
template <bool kMin>
void reorder_block(const uint8_t* in, uint8_t* out) {
  const auto* f = reinterpret_cast<const float*>(in);
  auto* g = reinterpret_cast<float*>(out);
  for (int k = 0; k < (kMin ? 2 : 1); ++k) {
    const float32x4_t lo = vld1q_f32(f + 8 * k), hi = vld1q_f32(f + 8 * k + 4);
    vst1q_f32(g + 16 * k, vzip1q_f32(lo, lo));
    vst1q_f32(g + 16 * k + 4, vzip2q_f32(lo, lo));
    vst1q_f32(g + 16 * k + 8, vzip1q_f32(hi, hi));
    vst1q_f32(g + 16 * k + 12, vzip2q_f32(hi, hi));
  }
  // Word vector j of half h holds elements 4j..4j+3 of rows 4h..4h+3; zipping vectors 2c and
  // 2c + 1 by 32-bit lanes gives rows (4h, 4h+1) and (4h+2, 4h+3) of chunk c.
  const auto* q = reinterpret_cast<const uint32_t*>(in + (kMin ? 64 : 32));
  auto* o = out + (kMin ? 128 : 64);
  for (int h = 0; h < 2; ++h) {
    for (int c = 0; c < 4; ++c) {
      const uint32x4_t a = vld1q_u32(q + 32 * h + 4 * (2 * c)), b = vld1q_u32(q + 32 * h + 4 * (2 * c + 1));
      vst1q_u8(o + 64 * (2 * h) + 16 * c, vreinterpretq_u8_u32(vzip1q_u32(a, b)));
      vst1q_u8(o + 64 * (2 * h + 1) + 16 * c, vreinterpretq_u8_u32(vzip2q_u32(a, b)));
    }
  }
}

template <bool kMin, class Expand>
void build_mmla_panel(int64_t n, uint8_t* out, Expand expand) {
  alignas(16) uint8_t block[kPanelMinBlockBytes];
  for (int64_t b = 0; b < n / kQK; ++b) {
    expand(b, block);
    reorder_block<kMin>(block, out + b * mmla_block_bytes<kMin>());
  }
}

// Elements 8c..8c+7 of two tokens' quants, token 0 first.
struct TokenPair {
  int8x16_t chunk[4];
  float32x4_t d;  // [e0 e1 e0 e1]
  float32x4_t s;  // [s0 s1 s0 s1] (Q8_1's scaled sums; Q8_0: unused)
};

template <class Activation>
TokenPair load_pair(const Activation& x0, const Activation& x1) {
  TokenPair p;
  const int64x2_t a_lo = vreinterpretq_s64_s8(vld1q_s8(x0.qs)), a_hi = vreinterpretq_s64_s8(vld1q_s8(x0.qs + 16));
  const int64x2_t b_lo = vreinterpretq_s64_s8(vld1q_s8(x1.qs)), b_hi = vreinterpretq_s64_s8(vld1q_s8(x1.qs + 16));
  p.chunk[0] = vreinterpretq_s8_s64(vzip1q_s64(a_lo, b_lo));
  p.chunk[1] = vreinterpretq_s8_s64(vzip2q_s64(a_lo, b_lo));
  p.chunk[2] = vreinterpretq_s8_s64(vzip1q_s64(a_hi, b_hi));
  p.chunk[3] = vreinterpretq_s8_s64(vzip2q_s64(a_hi, b_hi));
  p.d = halves_to_floats(x0.d, x1.d, x0.d, x1.d);
  if constexpr (std::is_same_v<Activation, BlockQ8_1>) {
    p.s = halves_to_floats(x0.s, x1.s, x0.s, x1.s);
  } else {
    p.s = vdupq_n_f32(0.0f);
  }
  return p;
}

// Two token pairs (kPairs = 2) or one, against the 8 rows of the panel; pair k's tokens are
// t[2k] and t[2k + 1] (a lone last token pairs with itself and only its first lane is stored).
template <bool kMin, int kPairs>
void mmla_pass(int64_t nb, const uint8_t* panel, const uint8_t* const* tokens, float* const* out) {
  using Activation = std::conditional_t<kMin, BlockQ8_1, BlockQ8_0>;
  float32x4_t acc[kPairs][4];
  for (int k = 0; k < kPairs; ++k) {
    for (int p = 0; p < 4; ++p) acc[k][p] = vdupq_n_f32(0.0f);
  }
  for (int64_t b = 0; b < nb; ++b, panel += mmla_block_bytes<kMin>()) {
    TokenPair pair[kPairs];
    for (int k = 0; k < kPairs; ++k) {
      pair[k] = load_pair(reinterpret_cast<const Activation*>(tokens[2 * k])[b], reinterpret_cast<const Activation*>(tokens[2 * k + 1])[b]);
    }
    const auto* f = reinterpret_cast<const float*>(panel);
    const int8_t* q = reinterpret_cast<const int8_t*>(panel + (kMin ? 128 : 64));
    for (int p = 0; p < 4; ++p) {
      const int8x16x4_t w = vld1q_s8_x4(q + 64 * p);
      const float32x4_t dw = vld1q_f32(f + 4 * p);
      for (int k = 0; k < kPairs; ++k) {
        int32x4_t isum = vmmlaq_s32(vdupq_n_s32(0), w.val[0], pair[k].chunk[0]);
        isum = vmmlaq_s32(isum, w.val[1], pair[k].chunk[1]);
        isum = vmmlaq_s32(isum, w.val[2], pair[k].chunk[2]);
        isum = vmmlaq_s32(isum, w.val[3], pair[k].chunk[3]);
        // Lanes (r, t): [(2p, t0), (2p, t1), (2p+1, t0), (2p+1, t1)]; the reference's order.
        const float32x4_t term = vmulq_f32(vmulq_f32(dw, pair[k].d), vcvtq_f32_s32(isum));
        if constexpr (kMin) {
          acc[k][p] = vaddq_f32(acc[k][p], vaddq_f32(term, vmulq_f32(vld1q_f32(f + 16 + 4 * p), pair[k].s)));
        } else {
          acc[k][p] = vaddq_f32(acc[k][p], term);
        }
      }
    }
  }
  for (int k = 0; k < kPairs; ++k) store_pair(acc[k], out[2 * k], out[2 * k + 1]);
}

template <bool kMin>
void mmla_gemm(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out, size_t out_stride) {
  const auto* p = static_cast<const uint8_t*>(panel);
  for_token_pairs(a, a_stride, n_tokens, out, out_stride, [&](auto pairs, const uint8_t* const* tokens, float* const* outs) {
    mmla_pass<kMin, decltype(pairs)::value>(n / kQK, p, tokens, outs);
  });
}

}  // namespace

size_t panel_bytes_q4_0__i8mm(int64_t n) { return mmla_panel_bytes<false>(n); }
size_t panel_bytes_q4_1__i8mm(int64_t n) { return mmla_panel_bytes<true>(n); }
size_t panel_bytes_q8_0__i8mm(int64_t n) { return mmla_panel_bytes<false>(n); }

void pack_panel_q4_0__i8mm(int64_t n, const void* w, size_t w_stride, void* panel) {
  uint8_t column[kQ41GroupBytes];
  build_mmla_panel<false>(n, static_cast<uint8_t*>(panel), [&](int64_t b, uint8_t* block) {
    pack_nibble_block<BlockQ4_0, false>(static_cast<const uint8_t*>(w), w_stride, b, column);
    expand_nibble_block<false>(column, block);
  });
}
void pack_panel_q4_1__i8mm(int64_t n, const void* w, size_t w_stride, void* panel) {
  uint8_t column[kQ41GroupBytes];
  build_mmla_panel<true>(n, static_cast<uint8_t*>(panel), [&](int64_t b, uint8_t* block) {
    pack_nibble_block<BlockQ4_1, true>(static_cast<const uint8_t*>(w), w_stride, b, column);
    expand_nibble_block<true>(column, block);
  });
}
void pack_panel_q8_0__i8mm(int64_t n, const void* w, size_t w_stride, void* panel) {
  uint8_t column[kQ80GroupBytes];
  build_mmla_panel<false>(n, static_cast<uint8_t*>(panel), [&](int64_t b, uint8_t* block) {
    pack_q8_0_block(static_cast<const uint8_t*>(w), w_stride, b, column);
    expand_q8_0_block(column, block);
  });
}

// Q5_0 and Q5_1 (from the file's rows only): Q4_0's and Q4_1's smmla panels.
void pack_panel_q5_0__i8mm(int64_t n, const void* w, size_t w_stride, void* panel) {
  build_mmla_panel<false>(n, static_cast<uint8_t*>(panel), [&](int64_t b, uint8_t* block) {
    pack_q5_panel_block<BlockQ5_0, false>(static_cast<const uint8_t*>(w), w_stride, b, block);
  });
}
void pack_panel_q5_1__i8mm(int64_t n, const void* w, size_t w_stride, void* panel) {
  build_mmla_panel<true>(n, static_cast<uint8_t*>(panel), [&](int64_t b, uint8_t* block) {
    pack_q5_panel_block<BlockQ5_1, true>(static_cast<const uint8_t*>(w), w_stride, b, block);
  });
}

void pack_panel_from_q4_0x8__i8mm(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  build_mmla_panel<false>(n, static_cast<uint8_t*>(panel), [&](int64_t b, uint8_t* block) {
    expand_nibble_block<false>(static_cast<const uint8_t*>(group) + b * kQ40GroupBytes, block);
  });
}
void pack_panel_from_q4_1x8__i8mm(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  build_mmla_panel<true>(n, static_cast<uint8_t*>(panel), [&](int64_t b, uint8_t* block) {
    expand_nibble_block<true>(static_cast<const uint8_t*>(group) + b * kQ41GroupBytes, block);
  });
}
void pack_panel_from_q8_0x8__i8mm(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  build_mmla_panel<false>(n, static_cast<uint8_t*>(panel), [&](int64_t b, uint8_t* block) {
    expand_q8_0_block(static_cast<const uint8_t*>(group) + b * kQ80GroupBytes, block);
  });
}

void qpanel_q4_0_q8_0__i8mm(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                            size_t out_stride) {
  mmla_gemm<false>(n, panel, a, a_stride, n_tokens, out, out_stride);
}
void qpanel_q4_1_q8_1__i8mm(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                            size_t out_stride) {
  mmla_gemm<true>(n, panel, a, a_stride, n_tokens, out, out_stride);
}
void qpanel_q8_0_q8_0__i8mm(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens, float* out,
                            size_t out_stride) {
  mmla_gemm<false>(n, panel, a, a_stride, n_tokens, out, out_stride);
}

}  // namespace ple::kernels
