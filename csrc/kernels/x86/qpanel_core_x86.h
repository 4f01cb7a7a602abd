// Internals of the x86 prefill panels (qpanel_x86.h; the packed-row GEMVs of
// qgemv_packed_x86.h build on them), in 256-bit intrinsics, templates over the ISA policy where
// the ISAs differ (policy_avx2.h): the panel layout of each type, the activation broadcast groups,
// the exact integer group sums and the panel GEMM. Internal linkage, so each per-ISA file keeps
// its own copy, compiled with its own flags.
//
// The matmul driver packs 8 rows once per chunk of tokens into a scratch panel and then streams
// every token of the chunk through it, so the packing cost is shared by up to 64 tokens and the
// model file stays mmapped and untouched (no load-time repack, no extra RAM beyond the panel).
//
// Panel layout, per block of 32 columns (kPanelBlockBytes):
//   float   d[8]        the rows' scales, converted from fp16 once
//   int32   bias[8]     128 * sum_j w_j per row (w_j = q_j - 8), see below
//   int8    w[8][8][4]  group g (columns 4g..4g+3), row r: four signed quants, so the 32-bit lane
//                       r of a vector of group g holds row r's four values
// A token's activation block is made unsigned (a + 128, an xor of the sign bit), each group of
// four broadcast to all lanes, and one vpmaddubsw per group gives every row's pair sums at once:
// no horizontal reduction. |pair| <= 2 * 255 * 8 = 4080, so the eight groups add up in int16
// without saturating (<= 32640); vpmaddwd then gives row r's sum of (a + 128) * w in lane r, and
// subtracting the bias leaves the exact sum of a * w.
//
// Float part per block: acc_r = fma(d_w,r * d_a, sum_r, acc_r), the same operations in the same
// order as the tiles and the dot of qtile_legacy_x86.h, so every panel output equals the dot
// bit for bit (tests/native/test_kernels_isa.cpp).
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "kernels/x86/avx2_helpers.h"
#include "kernels/x86/x86_intrin.h"
#include "kernels/x86/x86_kernels.h"
#include "quant/blocks.h"

namespace ple::kernels {
namespace {

constexpr int kPanelRows = 8;
constexpr size_t kPanelBlockBytes = 8 * sizeof(float) + 8 * sizeof(int32_t) + 8 * 8 * 4;
static_assert(kPanelBlockBytes == 320, "panel block layout");

// 8 x 8 transpose of 32-bit words: word g of row vector r goes to lane r of group vector g.
inline void transpose_words(const __m256i (&v)[8], __m256i (&g)[8]) {
  const __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpackhi_epi32(v[0], v[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]), t3 = _mm256_unpackhi_epi32(v[2], v[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(v[4], v[5]), t5 = _mm256_unpackhi_epi32(v[4], v[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(v[6], v[7]), t7 = _mm256_unpackhi_epi32(v[6], v[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  g[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  g[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  g[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  g[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  g[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  g[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  g[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  g[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

// Stores the panel's groups (vector g: row r's quants 4g..4g+3 in lane r, as signed q - 8) and
// its bias row sums; the float scales are stored by the caller.
inline void store_panel_groups(const __m256i (&g)[8], uint8_t* out) {
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  // bias_r = 128 * sum of row r's quants: the groups' byte sums (1 * w in vpmaddubsw) per lane.
  __m256i pair_sums = _mm256_setzero_si256();
  auto* groups = reinterpret_cast<__m256i*>(out + 64);
  for (int k = 0; k < 8; ++k) {
    _mm256_storeu_si256(groups + k, g[k]);
    pair_sums = _mm256_add_epi16(pair_sums, _mm256_maddubs_epi16(ones8, g[k]));
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32), _mm256_slli_epi32(_mm256_madd_epi16(pair_sums, ones16), 7));
}

// The eight 4-column groups of a 32-column activation block, each broadcast to every 32-bit lane
// (pshufd within each 128-bit half; flip = 0x80 bytes turns signed a into unsigned a + 128).
inline void activation_groups(const int8_t* a, __m128i flip, __m256i (&g)[8]) {
  const __m256i lo = _mm256_broadcastsi128_si256(_mm_xor_si128(load128(a), flip));
  const __m256i hi = _mm256_broadcastsi128_si256(_mm_xor_si128(load128(a + 16), flip));
  g[0] = _mm256_shuffle_epi32(lo, 0x00);
  g[1] = _mm256_shuffle_epi32(lo, 0x55);
  g[2] = _mm256_shuffle_epi32(lo, 0xaa);
  g[3] = _mm256_shuffle_epi32(lo, 0xff);
  g[4] = _mm256_shuffle_epi32(hi, 0x00);
  g[5] = _mm256_shuffle_epi32(hi, 0x55);
  g[6] = _mm256_shuffle_epi32(hi, 0xaa);
  g[7] = _mm256_shuffle_epi32(hi, 0xff);
}

// int16 pair sums of groups [first, first + count) of a panel against the activation groups:
// vpmaddubsw with the unsigned operand first (the weights when kWeightsUnsigned, else the
// activation made unsigned). Callers bound the sums below 2^15.
template <bool kWeightsUnsigned>
inline __m256i group_products(const __m256i* w, const __m256i (&a)[8], int first, int count) {
  __m256i s = _mm256_setzero_si256();
  for (int g = first; g < first + count; ++g) {
    const __m256i wg = _mm256_loadu_si256(w + g);
    s = _mm256_add_epi16(s, kWeightsUnsigned ? _mm256_maddubs_epi16(wg, a[g]) : _mm256_maddubs_epi16(a[g], wg));
  }
  return s;
}

// Row r's exact int32 sum over groups [first, first + count) in lane r, for sums that fit the
// int16 stage of group_products: the policy's running sum (AVX2: vpmaddubsw + vpaddw, one vpmaddwd
// at the end; VNNI: one vpdpbusd per group straight into int32). The lanes hold the same integers
// either way.
template <class Isa, bool kWeightsUnsigned>
inline __m256i group_sums(const __m256i* w, const __m256i (&a)[8], int first, int count) {
  __m256i s = _mm256_setzero_si256();
  for (int g = first; g < first + count; ++g) {
    const __m256i wg = _mm256_loadu_si256(w + g);
    s = kWeightsUnsigned ? Isa::sum_dot(s, wg, a[g]) : Isa::sum_dot(s, a[g], wg);
  }
  return Isa::lanes(s);
}

// Every cache line of [p, p + bytes).
inline void prefetch_lines(const uint8_t* p, size_t bytes) {
  for (size_t line = 0; line < bytes; line += 64) _mm_prefetch(reinterpret_cast<const char*>(p) + line, _MM_HINT_T0);
}

// Lane r of v to out[r], for the panel's 8 rows.
inline void store_rows(__m256 v, float* out) {
  alignas(32) float f[kPanelRows];
  _mm256_store_ps(f, v);
  for (int r = 0; r < kPanelRows; ++r) out[r] = f[r];
}

// Accumulator of a format with a per-block minimum term (Q4_1: panels and packed rows).
struct SumsWithMins {
  __m256 acc = _mm256_setzero_ps(), mins = _mm256_setzero_ps();
  __m256 result() const { return _mm256_add_ps(acc, mins); }
};

}  // namespace

namespace {

// out[t * out_stride + r] = dot(row r, token t) over a panel of signed quants with the layout
// above (Q4_0; Q8_0 too without saturating pairs), for the panel's 8 rows and n_tokens tokens.
template <class Isa>
inline void gemm_signed_panel(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens,
                              float* out, size_t out_stride) {
  const int64_t nb = n / kQK;
  const __m128i sign = _mm_set1_epi8(static_cast<char>(0x80));
  const auto* p0 = static_cast<const uint8_t*>(panel);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* act = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) + static_cast<size_t>(t) * a_stride);
    __m256 acc = _mm256_setzero_ps();
    const uint8_t* p = p0;
    for (int64_t b = 0; b < nb; ++b, p += kPanelBlockBytes) {
      __m256i ag[8];
      activation_groups(act[b].qs, sign, ag);
      const __m256i bias = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
      const __m256i sums = _mm256_sub_epi32(group_sums<Isa, false>(reinterpret_cast<const __m256i*>(p + 64), ag, 0, 8), bias);
      const __m256 d = _mm256_mul_ps(_mm256_loadu_ps(reinterpret_cast<const float*>(p)), _mm256_set1_ps(half_to_float(act[b].d)));
      acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sums), acc);
    }
    store_rows(acc, out + static_cast<size_t>(t) * out_stride);
  }
}

}  // namespace

// ---- Q4_1 ------------------------------------------------------------------------------------
// Panel of 8 Q4_1 rows, per block of 32 columns (kPanelBlockBytes, as Q4_0's):
//   float  d[8], m[8]      the rows' scales and minimums
//   uint8  q[8][8][4]      group g (columns 4g..4g+3), lane r: row r's four quants 0..15
// The quants are unsigned, so they are vpmaddubsw's first operand against the signed activation
// groups (|pair| <= 2 * 15 * 128; eight groups <= 30720 in int16). Float part as the Q4_1 tiles:
// acc = fma(d_w * d_a, isum, acc), mins = fma(m_w, s_a, mins), out = acc + mins.
namespace {

// The float part of 8 Q4_1 rows against one Q8_1 activation block (d_a, s_a broadcast).
inline void q4_1_block(__m256 d_w, __m256 m_w, __m256i isum, __m256 d_a, __m256 s_a, SumsWithMins& s) {
  s.acc = _mm256_fmadd_ps(_mm256_mul_ps(d_w, d_a), _mm256_cvtepi32_ps(isum), s.acc);
  s.mins = _mm256_fmadd_ps(m_w, s_a, s.mins);
}

}  // namespace

// ---- Q4_K ------------------------------------------------------------------------------------
// Panel of 8 Q4_K rows, per super-block of 256 columns (kPanelK4Bytes):
//   float  d[8], dmin[8]        the rows' super-block scales
//   int16  sc[8][8][2]          vector j (sub-block j), lane r: row r's 6-bit scale, twice, so one
//                               vpmaddwd scales both int16 pair sums of the lane
//   int16  mins[4][8][2]        vector k, lane r: row r's mins of sub-blocks 2k and 2k + 1
//   uint8  q[8][8][8][4]        sub-block j, group g (columns 32j + 4g..+3), lane r: unsigned
//                               quants 0..15
// Per token and super-block: one vpmaddubsw per group gives all 8 rows' pair sums (<= 2 * 15 * 128,
// eight groups <= 30720 in int16), vpmaddwd applies the scales (a lane sums at most 256 * 15 * 63
// * 128 < 2^31), and the mins meet the activation's 16-element sums in four vpmaddwd. Float part
// as tile_k4 in qtile_kquants_x86.h (per super-block: acc = fma(d * d_a, isum, acc), mins +=
// (dmin * d_a) * msum; acc - mins), so every output equals the dot bit for bit.
namespace {

constexpr size_t kPanelK4Bytes = 64 + 256 + 128 + 2048;

}  // namespace

// ---- Q6_K ------------------------------------------------------------------------------------
// Panel of 8 Q6_K rows, per super-block of 256 columns (kPanelQ6KBytes):
//   float  d[8]                 the rows' super-block scales
//   int16  sc[16][8][2]         vector j (16-column sub-block j), lane r: row r's scale, twice
//   int16  off[8][8][2]         vector k, lane r: row r's scales of sub-blocks 2k and 2k + 1
//   uint8  q[8][8][8][4]        32-column chunk c, group g (columns 32c + 4g..+3), lane r:
//                               unsigned quants u = q + 32, 0..63
// Per token and super-block: vpmaddubsw pair sums are <= 2 * 63 * 128, so two groups (one half
// of a sub-block) add up in int16 before vpmaddwd applies the scales; the offset, 32 * sum_j
// scale_j * bsum_j, comes from the activation's 16-column sums in eight vpmaddwd. Exact integer
// sum per super-block, then acc = fma(d * d_a, isum, acc) as tile_q6_k in qtile_kquants_x86.h.
namespace {

constexpr size_t kPanelQ6KBytes = 32 + 512 + 256 + 2048;

}  // namespace

// ---- Q8_0 ------------------------------------------------------------------------------------
// Panel of 8 Q8_0 rows, per block of 32 columns (kPanelQ80Bytes):
//   float  d[8]                 the rows' scales
//   int32  bias[8]              128 * sum of the row's quants
//   int8   lo[8][8][4]          group g (columns 4g..4g+3), lane r: w & 15 (0..15)
//   int8   hi[8][8][4]          the same groups: w >> 4 (arithmetic, -8..7), so w = 16 * hi + lo
// The activation is made unsigned (a + 128, 0..255) as in the Q4_0 panel. A whole signed byte
// against it would overflow vpmaddubsw's int16 pairs (2 * 255 * 128), its two halves do not:
// lo pairs <= 2 * 255 * 15 = 7650 (four groups add up to 30600 in int16), hi pairs <= 2 * 255 * 8 =
// 4080 (eight groups: 32640). Then sum (a + 128) * w = lo sums + 16 * hi sums, minus the bias, is
// the exact sum of a * w for every byte pattern; float part as the Q8_0 tiles and dot.
// Policies without saturating pairs (Isa::kSaturatingPairs false: VNNI) keep whole signed quants
// instead, in the Q4_0 panel's layout: vpdpbusd sums (a + 128) * w into int32 with no int16 stage
// to overflow, and the Q4_0 panel GEMM serves.
namespace {

template <class Isa>
constexpr size_t kPanelQ80Bytes = Isa::kSaturatingPairs ? 32 + 32 + 256 + 256 : kPanelBlockBytes;

// Stores a Q8_0 panel's groups from g (vector g: row r's quants 4g..4g+3 in lane r) and its bias
// row sums; the float scales are stored by the caller.
template <class Isa>
inline void store_q8_0_panel_groups(const __m256i (&g)[8], uint8_t* out) {
  if constexpr (!Isa::kSaturatingPairs) {
    store_panel_groups(g, out);  // byte pair sums |2 * w| <= 256: no int16 overflow
  } else {
    const __m256i low4 = _mm256_set1_epi8(0x0f), eight = _mm256_set1_epi8(8);
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    __m256i sum_lo = _mm256_setzero_si256(), sum_hi = _mm256_setzero_si256();
    auto* dst = reinterpret_cast<__m256i*>(out + 64);
    for (int k = 0; k < 8; ++k) {
      const __m256i lo = _mm256_and_si256(g[k], low4);
      // Arithmetic shift of bytes: the high nibble, sign-extended from 4 bits.
      const __m256i hi = _mm256_sub_epi8(_mm256_xor_si256(_mm256_and_si256(_mm256_srli_epi16(g[k], 4), low4), eight), eight);
      _mm256_storeu_si256(dst + k, lo);
      _mm256_storeu_si256(dst + 8 + k, hi);
      sum_lo = _mm256_add_epi16(sum_lo, _mm256_maddubs_epi16(ones8, lo));
      sum_hi = _mm256_add_epi16(sum_hi, _mm256_maddubs_epi16(ones8, hi));
    }
    const __m256i sum = _mm256_add_epi32(_mm256_madd_epi16(sum_lo, ones16), _mm256_slli_epi32(_mm256_madd_epi16(sum_hi, ones16), 4));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32), _mm256_slli_epi32(sum, 7));
  }
}

}  // namespace

}  // namespace ple::kernels
