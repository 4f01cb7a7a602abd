// AVX2 kernels over 8 interleaved Q4_0, Q8_0, Q4_K or Q6_K weight rows: the prefill GEMM over a scratch panel
// (kernel_table.h, PanelKernel), and the decode GEMV over rows interleaved once at load time
// (InterleavedKernels).
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
// order as the tiles and the dot of qdot_legacy_avx2.cpp, so every panel output equals the dot
// bit for bit (tests/native/test_kernels_isa.cpp).
#include <cstdint>
#include <cstring>

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
void transpose_words(const __m256i (&v)[8], __m256i (&g)[8]) {
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
void store_panel_groups(const __m256i (&g)[8], uint8_t* out) {
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

}  // namespace

size_t panel_bytes_q4_0__avx2(int64_t n) { return static_cast<size_t>(n / kQK) * kPanelBlockBytes; }

// Packing is vectorized so that its cost stays small next to a chunk of tokens: the rows' quants
// are unpacked (q - 8) and an 8 x 8 transpose of 32-bit groups interleaves them.
void pack_panel_q4_0__avx2(int64_t n, const void* w, size_t w_stride, void* panel) {
  const auto* rows = static_cast<const uint8_t*>(w);
  auto* out = static_cast<uint8_t*>(panel);
  const int64_t nb = n / kQK;
  const __m256i low4 = _mm256_set1_epi8(0x0f), eight = _mm256_set1_epi8(8);
  const __m256i shift = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
  for (int64_t b = 0; b < nb; ++b, out += kPanelBlockBytes) {
    __m256i v[kPanelRows];  // row r's 32 quants q - 8, in element order
    uint16_t h[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) {
      const BlockQ4_0& x = reinterpret_cast<const BlockQ4_0*>(rows + static_cast<size_t>(r) * w_stride)[b];
      const __m256i both = _mm256_broadcastsi128_si256(load128(x.qs));
      v[r] = _mm256_sub_epi8(_mm256_and_si256(_mm256_srlv_epi32(both, shift), low4), eight);
      h[r] = x.d;
    }
    _mm256_storeu_ps(reinterpret_cast<float*>(out), _mm256_cvtph_ps(load128(h)));
    __m256i g[8];
    transpose_words(v, g);
    store_panel_groups(g, out);
  }
}

// out[t * out_stride + r] = dot(row r, token t) for the panel's 8 rows and n_tokens tokens.
void gemm_panel_q4_0_q8_0__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens,
                                float* out, size_t out_stride) {
  const int64_t nb = n / kQK;
  const __m256i ones = _mm256_set1_epi16(1);
  const __m128i sign = _mm_set1_epi8(static_cast<char>(0x80));
  const auto* p0 = static_cast<const uint8_t*>(panel);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* act = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) + static_cast<size_t>(t) * a_stride);
    __m256 acc = _mm256_setzero_ps();
    const uint8_t* p = p0;
    for (int64_t b = 0; b < nb; ++b, p += kPanelBlockBytes) {
      __m256i ag[8];
      activation_groups(act[b].qs, sign, ag);
      const __m256i s = group_products<false>(reinterpret_cast<const __m256i*>(p + 64), ag, 0, 8);
      const __m256i bias = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
      const __m256i sums = _mm256_sub_epi32(_mm256_madd_epi16(s, ones), bias);
      const __m256 d = _mm256_mul_ps(_mm256_loadu_ps(reinterpret_cast<const float*>(p)), _mm256_set1_ps(half_to_float(act[b].d)));
      acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sums), acc);
    }
    store_rows(acc, out + static_cast<size_t>(t) * out_stride);
  }
}

// Interleaved Q4_0 (8 rows, same 144 bytes per block column as the 8 rows' own blocks):
//   uint16  d[8]       the rows' fp16 scales
//   uint8   qs[4][8][4]  vector j, lane r: row r's bytes qs[4j..4j+3], whose low nibbles are its
//                        quants 4j..4j+3 and high nibbles its quants 16+4j..16+4j+3
// so a mask gives group j of all 8 rows and a shift group j + 4, with no shuffles at run time.
namespace {

constexpr size_t kQ40GroupBytes = kPanelRows * sizeof(BlockQ4_0);  // 144

}  // namespace

size_t interleaved_group_bytes_q4_0x8__avx2(int64_t n) { return static_cast<size_t>(n / kQK) * kQ40GroupBytes; }

void interleave_q4_0x8__avx2(int64_t n, const void* w, size_t w_stride, void* out_group) {
  const auto* rows = static_cast<const uint8_t*>(w);
  auto* out = static_cast<uint8_t*>(out_group);
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b, out += kQ40GroupBytes) {
    const BlockQ4_0* x[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) {
      x[r] = reinterpret_cast<const BlockQ4_0*>(rows + static_cast<size_t>(r) * w_stride) + b;
      std::memcpy(out + 2 * r, &x[r]->d, 2);
    }
    // 8 rows x 4 words -> 4 vectors x 8 words: rows r and r + 4 share a vector, then a 4 x 4
    // transpose within each 128-bit lane.
    __m256i y[4];
    for (int r = 0; r < 4; ++r) y[r] = _mm256_setr_m128i(load128(x[r]->qs), load128(x[r + 4]->qs));
    const __m256i t0 = _mm256_unpacklo_epi32(y[0], y[1]), t1 = _mm256_unpackhi_epi32(y[0], y[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(y[2], y[3]), t3 = _mm256_unpackhi_epi32(y[2], y[3]);
    auto* v = reinterpret_cast<__m256i*>(out + 16);
    _mm256_storeu_si256(v + 0, _mm256_unpacklo_epi64(t0, t2));
    _mm256_storeu_si256(v + 1, _mm256_unpackhi_epi64(t0, t2));
    _mm256_storeu_si256(v + 2, _mm256_unpacklo_epi64(t1, t3));
    _mm256_storeu_si256(v + 3, _mm256_unpackhi_epi64(t1, t3));
  }
}

namespace {

// Groups j and j + 4 of 8 interleaved rows, as unsigned quants 0..15.
inline void unpack_interleaved(const uint8_t* v, int j, __m256i& lo, __m256i& hi) {
  const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v) + j);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  lo = _mm256_and_si256(q, low4);
  hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
}

}  // namespace

// Decode: out[g * 8 + r] = dot(row 8g + r, a) for n_groups consecutive interleaved groups.
// Per block: eight vpmaddubsw (unsigned quants x signed activation groups broadcast to all lanes)
// give every row's pair sums; 8 * sum(a) is taken off once for all rows. |pair| <= 2 * 15 * 128,
// so eight groups add up in int16 (<= 30720). Float part as in every other Q4_0 kernel here.
void gemv_q4_0x8_q8_0__avx2(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  const int64_t nb = n / kQK;
  const size_t group_bytes = static_cast<size_t>(nb) * kQ40GroupBytes;
  const auto* act = static_cast<const BlockQ8_0*>(a);
  const __m256i ones = _mm256_set1_epi16(1), eights = _mm256_set1_epi8(8);
  for (int64_t grp = 0; grp < n_groups; ++grp) {
    const uint8_t* p = static_cast<const uint8_t*>(groups) + static_cast<size_t>(grp) * group_bytes;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, p += kQ40GroupBytes) {
      // The next group's same block: the next group starts a stream the hardware prefetcher has
      // not seen yet (as the decode tiles prefetch their next tile).
      prefetch_lines(p + group_bytes, kQ40GroupBytes);
      const int8_t* aq = act[b].qs;
      const auto bcast = [&](int k) { int32_t v; std::memcpy(&v, aq + 4 * k, 4); return _mm256_set1_epi32(v); };
      __m256i lo, hi, s;
      unpack_interleaved(p + 16, 0, lo, hi);
      s = _mm256_add_epi16(_mm256_maddubs_epi16(lo, bcast(0)), _mm256_maddubs_epi16(hi, bcast(4)));
      unpack_interleaved(p + 16, 1, lo, hi);
      s = _mm256_add_epi16(s, _mm256_add_epi16(_mm256_maddubs_epi16(lo, bcast(1)), _mm256_maddubs_epi16(hi, bcast(5))));
      unpack_interleaved(p + 16, 2, lo, hi);
      s = _mm256_add_epi16(s, _mm256_add_epi16(_mm256_maddubs_epi16(lo, bcast(2)), _mm256_maddubs_epi16(hi, bcast(6))));
      unpack_interleaved(p + 16, 3, lo, hi);
      s = _mm256_add_epi16(s, _mm256_add_epi16(_mm256_maddubs_epi16(lo, bcast(3)), _mm256_maddubs_epi16(hi, bcast(7))));
      // 8 * sum(a) in every lane: pair sums of 8 * a, then the eight int32 lanes summed.
      __m256i off = _mm256_madd_epi16(_mm256_maddubs_epi16(eights, load256(aq)), ones);
      off = _mm256_add_epi32(off, _mm256_permute2x128_si256(off, off, 0x01));
      off = _mm256_add_epi32(off, _mm256_shuffle_epi32(off, 0x4e));
      off = _mm256_add_epi32(off, _mm256_shuffle_epi32(off, 0xb1));
      const __m256i sums = _mm256_sub_epi32(_mm256_madd_epi16(s, ones), off);
      const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(load128(p)), _mm256_set1_ps(half_to_float(act[b].d)));
      acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sums), acc);
    }
    _mm256_storeu_ps(out + grp * 8, acc);
  }
}

// Prefill on interleaved rows: the scratch panel of one group, without a transpose.
void pack_panel_from_q4_0x8__avx2(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  const auto* p = static_cast<const uint8_t*>(group);
  auto* out = static_cast<uint8_t*>(panel);
  const int64_t nb = n / kQK;
  const __m256i eight = _mm256_set1_epi8(8);
  for (int64_t b = 0; b < nb; ++b, p += kQ40GroupBytes, out += kPanelBlockBytes) {
    _mm256_storeu_ps(reinterpret_cast<float*>(out), _mm256_cvtph_ps(load128(p)));
    __m256i g[8];
    for (int j = 0; j < 4; ++j) {
      unpack_interleaved(p + 16, j, g[j], g[j + 4]);
      g[j] = _mm256_sub_epi8(g[j], eight);
      g[j + 4] = _mm256_sub_epi8(g[j + 4], eight);
    }
    store_panel_groups(g, out);
  }
}

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
// as tile_k4 in qdot_kquants_avx2.cpp (per super-block: acc = fma(d * d_a, isum, acc), mins +=
// (dmin * d_a) * msum; acc - mins), so every output equals the dot bit for bit.
namespace {

constexpr size_t kPanelK4Bytes = 64 + 256 + 128 + 2048;

}  // namespace

size_t panel_bytes_q4_k__avx2(int64_t n) { return static_cast<size_t>(n / kQK_K) * kPanelK4Bytes; }

void pack_panel_q4_k__avx2(int64_t n, const void* w, size_t w_stride, void* panel) {
  const auto* rows = static_cast<const uint8_t*>(w);
  auto* out = static_cast<uint8_t*>(panel);
  const int64_t nb = n / kQK_K;
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  for (int64_t b = 0; b < nb; ++b, out += kPanelK4Bytes) {
    const BlockQ4_K* x[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) x[r] = reinterpret_cast<const BlockQ4_K*>(rows + static_cast<size_t>(r) * w_stride) + b;
    float d[kPanelRows], dmin[kPanelRows];
    int16_t sc[8][kPanelRows][2], mins[4][kPanelRows][2];
    for (int r = 0; r < kPanelRows; ++r) {
      d[r] = half_to_float(x[r]->d);
      dmin[r] = half_to_float(x[r]->dmin);
      uint8_t scales_mins[16];
      _mm_storeu_si128(reinterpret_cast<__m128i*>(scales_mins), unpack_scales_mins_k4(x[r]->scales));
      for (int j = 0; j < 8; ++j) {
        sc[j][r][0] = sc[j][r][1] = scales_mins[j];
        mins[j / 2][r][j % 2] = scales_mins[8 + j];
      }
    }
    std::memcpy(out, d, sizeof d);
    std::memcpy(out + 32, dmin, sizeof dmin);
    std::memcpy(out + 64, sc, sizeof sc);
    std::memcpy(out + 320, mins, sizeof mins);
    auto* groups = reinterpret_cast<__m256i*>(out + 448);
    for (int j = 0; j < 8; ++j) {  // sub-block j: low (even j) or high nibbles of qs[32 * (j / 2)..]
      __m256i v[kPanelRows];
      for (int r = 0; r < kPanelRows; ++r) {
        const __m256i q = load256(x[r]->qs + 32 * (j / 2));
        v[r] = _mm256_and_si256(j % 2 ? _mm256_srli_epi16(q, 4) : q, low4);
      }
      __m256i g[8];
      transpose_words(v, g);
      for (int k = 0; k < 8; ++k) _mm256_storeu_si256(groups + 8 * j + k, g[k]);
    }
  }
}

void gemm_panel_q4_k_q8_k__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens,
                                float* out, size_t out_stride) {
  const int64_t nb = n / kQK_K;
  const auto* p0 = static_cast<const uint8_t*>(panel);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* act = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a) + static_cast<size_t>(t) * a_stride);
    __m256 acc = _mm256_setzero_ps(), mins = _mm256_setzero_ps();
    const uint8_t* p = p0;
    for (int64_t b = 0; b < nb; ++b, p += kPanelK4Bytes) {
      const BlockQ8_K& y = act[b];
      const auto* sc = reinterpret_cast<const __m256i*>(p + 64);
      const auto* mn = reinterpret_cast<const __m256i*>(p + 320);
      const auto* wg = reinterpret_cast<const __m256i*>(p + 448);
      __m256i isum = _mm256_setzero_si256();
      for (int j = 0; j < 8; ++j, wg += 8) {
        __m256i ag[8];
        activation_groups(y.qs + 32 * j, _mm_setzero_si128(), ag);
        const __m256i s = group_products<true>(wg, ag, 0, 8);
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(s, _mm256_loadu_si256(sc + j)));
      }
      // Sub-block sums of the activation (pairs of 16-element bsums), two per 32-bit word.
      const __m256i bsum = _mm256_broadcastsi128_si256(_mm_hadd_epi16(load128(y.bsums), load128(y.bsums + 8)));
      __m256i msum = _mm256_madd_epi16(_mm256_loadu_si256(mn + 0), _mm256_shuffle_epi32(bsum, 0x00));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(_mm256_loadu_si256(mn + 1), _mm256_shuffle_epi32(bsum, 0x55)));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(_mm256_loadu_si256(mn + 2), _mm256_shuffle_epi32(bsum, 0xaa)));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(_mm256_loadu_si256(mn + 3), _mm256_shuffle_epi32(bsum, 0xff)));
      const __m256 d_a = _mm256_set1_ps(y.d);
      acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(reinterpret_cast<const float*>(p)), d_a), _mm256_cvtepi32_ps(isum), acc);
      mins = _mm256_add_ps(mins, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(reinterpret_cast<const float*>(p + 32)), d_a),
                                               _mm256_cvtepi32_ps(msum)));
    }
    store_rows(_mm256_sub_ps(acc, mins), out + static_cast<size_t>(t) * out_stride);
  }
}

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
// sum per super-block, then acc = fma(d * d_a, isum, acc) as tile_q6_k in qdot_kquants_avx2.cpp.
namespace {

constexpr size_t kPanelQ6KBytes = 32 + 512 + 256 + 2048;

}  // namespace

size_t panel_bytes_q6_k__avx2(int64_t n) { return static_cast<size_t>(n / kQK_K) * kPanelQ6KBytes; }

void pack_panel_q6_k__avx2(int64_t n, const void* w, size_t w_stride, void* panel) {
  const auto* rows = static_cast<const uint8_t*>(w);
  auto* out = static_cast<uint8_t*>(panel);
  const int64_t nb = n / kQK_K;
  const __m256i nibble = _mm256_set1_epi8(0x0f), high = _mm256_set1_epi8(0x30);
  for (int64_t b = 0; b < nb; ++b, out += kPanelQ6KBytes) {
    const BlockQ6_K* x[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) x[r] = reinterpret_cast<const BlockQ6_K*>(rows + static_cast<size_t>(r) * w_stride) + b;
    float d[kPanelRows];
    int16_t sc[16][kPanelRows][2], off[8][kPanelRows][2];
    for (int r = 0; r < kPanelRows; ++r) {
      d[r] = half_to_float(x[r]->d);
      for (int j = 0; j < 16; ++j) {
        sc[j][r][0] = sc[j][r][1] = x[r]->scales[j];
        off[j / 2][r][j % 2] = x[r]->scales[j];
      }
    }
    std::memcpy(out, d, sizeof d);
    std::memcpy(out + 32, sc, sizeof sc);
    std::memcpy(out + 544, off, sizeof off);
    // Chunk 4h + s holds elements 128h + 32s + l, unpacked as in tile_q6_k.
    __m256i u[kPanelRows][8];
    for (int r = 0; r < kPanelRows; ++r) {
      for (int h = 0; h < 2; ++h) {
        const __m256i ql0 = load256(x[r]->ql + 64 * h), ql1 = load256(x[r]->ql + 64 * h + 32);
        const __m256i qh = load256(x[r]->qh + 32 * h);
        u[r][4 * h + 0] = _mm256_or_si256(_mm256_and_si256(ql0, nibble), _mm256_and_si256(_mm256_slli_epi16(qh, 4), high));
        u[r][4 * h + 1] = _mm256_or_si256(_mm256_and_si256(ql1, nibble), _mm256_and_si256(_mm256_slli_epi16(qh, 2), high));
        u[r][4 * h + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), nibble), _mm256_and_si256(qh, high));
        u[r][4 * h + 3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), nibble),
                                          _mm256_and_si256(_mm256_srli_epi16(qh, 2), high));
      }
    }
    auto* groups = reinterpret_cast<__m256i*>(out + 800);
    for (int c = 0; c < 8; ++c) {
      __m256i v[kPanelRows], g[8];
      for (int r = 0; r < kPanelRows; ++r) v[r] = u[r][c];
      transpose_words(v, g);
      for (int k = 0; k < 8; ++k) _mm256_storeu_si256(groups + 8 * c + k, g[k]);
    }
  }
}

void gemm_panel_q6_k_q8_k__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens,
                                float* out, size_t out_stride) {
  const int64_t nb = n / kQK_K;
  const auto* p0 = static_cast<const uint8_t*>(panel);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* act = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a) + static_cast<size_t>(t) * a_stride);
    __m256 acc = _mm256_setzero_ps();
    const uint8_t* p = p0;
    for (int64_t b = 0; b < nb; ++b, p += kPanelQ6KBytes) {
      const BlockQ8_K& y = act[b];
      const auto* sc = reinterpret_cast<const __m256i*>(p + 32);
      const auto* off = reinterpret_cast<const __m256i*>(p + 544);
      const auto* wg = reinterpret_cast<const __m256i*>(p + 800);
      __m256i isum = _mm256_setzero_si256();
      for (int c = 0; c < 8; ++c, wg += 8) {
        __m256i ag[8];
        activation_groups(y.qs + 32 * c, _mm_setzero_si128(), ag);
        // Two groups (half a 16-column sub-block) per int16 sum: pairs are <= 2 * 63 * 128.
        const __m256i s0 = group_products<true>(wg, ag, 0, 2), s1 = group_products<true>(wg, ag, 2, 2);
        const __m256i s2 = group_products<true>(wg, ag, 4, 2), s3 = group_products<true>(wg, ag, 6, 2);
        const __m256i sc_a = _mm256_loadu_si256(sc + 2 * c), sc_b = _mm256_loadu_si256(sc + 2 * c + 1);
        isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_madd_epi16(s0, sc_a), _mm256_madd_epi16(s1, sc_a)));
        isum = _mm256_add_epi32(isum, _mm256_add_epi32(_mm256_madd_epi16(s2, sc_b), _mm256_madd_epi16(s3, sc_b)));
      }
      // 32 * sum_j scale_j * bsum_j: bsums pairs (2k, 2k + 1) are the 32-bit words k of bsums.
      const __m256i bs = load256(y.bsums);
      __m256i offset = _mm256_setzero_si256();
      for (int k = 0; k < 8; ++k) {
        offset = _mm256_add_epi32(offset, _mm256_madd_epi16(_mm256_loadu_si256(off + k),
                                                            _mm256_permutevar8x32_epi32(bs, _mm256_set1_epi32(k))));
      }
      isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(offset, 5));
      acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(reinterpret_cast<const float*>(p)), _mm256_set1_ps(y.d)),
                            _mm256_cvtepi32_ps(isum), acc);
    }
    store_rows(acc, out + static_cast<size_t>(t) * out_stride);
  }
}

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
namespace {

constexpr size_t kPanelQ80Bytes = 32 + 32 + 256 + 256;

}  // namespace

size_t panel_bytes_q8_0__avx2(int64_t n) { return static_cast<size_t>(n / kQK) * kPanelQ80Bytes; }

void pack_panel_q8_0__avx2(int64_t n, const void* w, size_t w_stride, void* panel) {
  const auto* rows = static_cast<const uint8_t*>(w);
  auto* out = static_cast<uint8_t*>(panel);
  const int64_t nb = n / kQK;
  const __m256i low4 = _mm256_set1_epi8(0x0f), eight = _mm256_set1_epi8(8);
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  for (int64_t b = 0; b < nb; ++b, out += kPanelQ80Bytes) {
    __m256i lo[kPanelRows], hi[kPanelRows];
    uint16_t h[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) {
      const BlockQ8_0& x = reinterpret_cast<const BlockQ8_0*>(rows + static_cast<size_t>(r) * w_stride)[b];
      h[r] = x.d;
      const __m256i q = load256(x.qs);
      lo[r] = _mm256_and_si256(q, low4);
      // Arithmetic shift of bytes: the high nibble, sign-extended from 4 bits.
      hi[r] = _mm256_sub_epi8(_mm256_xor_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), eight), eight);
    }
    _mm256_storeu_ps(reinterpret_cast<float*>(out), _mm256_cvtph_ps(load128(h)));
    __m256i glo[8], ghi[8];
    transpose_words(lo, glo);
    transpose_words(hi, ghi);
    __m256i sum_lo = _mm256_setzero_si256(), sum_hi = _mm256_setzero_si256();
    auto* dst = reinterpret_cast<__m256i*>(out + 64);
    for (int k = 0; k < 8; ++k) {
      _mm256_storeu_si256(dst + k, glo[k]);
      _mm256_storeu_si256(dst + 8 + k, ghi[k]);
      sum_lo = _mm256_add_epi16(sum_lo, _mm256_maddubs_epi16(ones8, glo[k]));
      sum_hi = _mm256_add_epi16(sum_hi, _mm256_maddubs_epi16(ones8, ghi[k]));
    }
    const __m256i sum = _mm256_add_epi32(_mm256_madd_epi16(sum_lo, ones16), _mm256_slli_epi32(_mm256_madd_epi16(sum_hi, ones16), 4));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32), _mm256_slli_epi32(sum, 7));
  }
}

void gemm_panel_q8_0_q8_0__avx2(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens,
                                float* out, size_t out_stride) {
  const int64_t nb = n / kQK;
  const __m256i ones = _mm256_set1_epi16(1), sixteens = _mm256_set1_epi16(16);
  const __m128i sign = _mm_set1_epi8(static_cast<char>(0x80));
  const auto* p0 = static_cast<const uint8_t*>(panel);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* act = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) + static_cast<size_t>(t) * a_stride);
    __m256 acc = _mm256_setzero_ps();
    const uint8_t* p = p0;
    for (int64_t b = 0; b < nb; ++b, p += kPanelQ80Bytes) {
      const auto* wl = reinterpret_cast<const __m256i*>(p + 64);
      __m256i ag[8];
      activation_groups(act[b].qs, sign, ag);
      const __m256i lo_a = group_products<false>(wl, ag, 0, 4), lo_b = group_products<false>(wl, ag, 4, 4);
      const __m256i hi = group_products<false>(wl + 8, ag, 0, 8);
      __m256i sums = _mm256_add_epi32(_mm256_madd_epi16(lo_a, ones), _mm256_madd_epi16(lo_b, ones));
      sums = _mm256_add_epi32(sums, _mm256_madd_epi16(hi, sixteens));
      sums = _mm256_sub_epi32(sums, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)));
      const __m256 d = _mm256_mul_ps(_mm256_loadu_ps(reinterpret_cast<const float*>(p)), _mm256_set1_ps(half_to_float(act[b].d)));
      acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(sums), acc);
    }
    store_rows(acc, out + static_cast<size_t>(t) * out_stride);
  }
}

// ---- Q4_K interleaved (load time) --------------------------------------------------------------
// 8 Q4_K rows per super-block column (1184 bytes, 32 more than the rows' own 8 x 144: the 6-bit
// scales and mins are stored unpacked so the GEMV does not unpack them for every token):
//   uint16 d[8], dmin[8]
//   uint8  sc[8][8], m[8][8]     sub-block j, row r
//   uint8  qs[4][8][8][4]        chunk c (64 columns), group g, lane r: row r's bytes
//                                qs[32c + 4g..+3]: low nibbles sub-block 2c, high 2c + 1
namespace {

constexpr size_t kQ4KGroupBytes = 32 + 128 + 1024;

// 16 int16: (x[r], y[r]) in lane r, from eight bytes each.
inline __m256i byte_pairs(const uint8_t* x, const uint8_t* y) {
  return _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(x)),
                                                _mm_loadl_epi64(reinterpret_cast<const __m128i*>(y))));
}

}  // namespace

size_t interleaved_group_bytes_q4_kx8__avx2(int64_t n) { return static_cast<size_t>(n / kQK_K) * kQ4KGroupBytes; }

void interleave_q4_kx8__avx2(int64_t n, const void* w, size_t w_stride, void* out_group) {
  const auto* rows = static_cast<const uint8_t*>(w);
  auto* out = static_cast<uint8_t*>(out_group);
  for (int64_t b = 0; b < n / kQK_K; ++b, out += kQ4KGroupBytes) {
    const BlockQ4_K* x[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) x[r] = reinterpret_cast<const BlockQ4_K*>(rows + static_cast<size_t>(r) * w_stride) + b;
    uint16_t d[kPanelRows], dmin[kPanelRows];
    uint8_t sc[8][kPanelRows], m[8][kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) {
      d[r] = x[r]->d;
      dmin[r] = x[r]->dmin;
      uint8_t scales_mins[16];
      _mm_storeu_si128(reinterpret_cast<__m128i*>(scales_mins), unpack_scales_mins_k4(x[r]->scales));
      for (int j = 0; j < 8; ++j) {
        sc[j][r] = scales_mins[j];
        m[j][r] = scales_mins[8 + j];
      }
    }
    std::memcpy(out, d, sizeof d);
    std::memcpy(out + 16, dmin, sizeof dmin);
    std::memcpy(out + 32, sc, sizeof sc);
    std::memcpy(out + 96, m, sizeof m);
    auto* v = reinterpret_cast<__m256i*>(out + 160);
    for (int c = 0; c < 4; ++c) {
      __m256i q[kPanelRows], g[8];
      for (int r = 0; r < kPanelRows; ++r) q[r] = load256(x[r]->qs + 32 * c);
      transpose_words(q, g);
      for (int k = 0; k < 8; ++k) _mm256_storeu_si256(v + 8 * c + k, g[k]);
    }
  }
}

// Decode: out[g * 8 + r] = dot(row 8g + r, a) for n_groups interleaved groups; the float part as
// tile_k4 (per super-block acc = fma(d * d_a, isum, acc), mins += (dmin * d_a) * msum).
void gemv_q4_kx8_q8_k__avx2(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  const int64_t nb = n / kQK_K;
  const size_t group_bytes = static_cast<size_t>(nb) * kQ4KGroupBytes;
  const auto* act = static_cast<const BlockQ8_K*>(a);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  for (int64_t grp = 0; grp < n_groups; ++grp) {
    const uint8_t* p = static_cast<const uint8_t*>(groups) + static_cast<size_t>(grp) * group_bytes;
    __m256 acc = _mm256_setzero_ps(), mins = _mm256_setzero_ps();
    for (int64_t b = 0; b < nb; ++b, p += kQ4KGroupBytes) {
      // The next group's same super-block: a new stream the hardware prefetcher has not seen.
      prefetch_lines(p + group_bytes, kQ4KGroupBytes);
      const BlockQ8_K& y = act[b];
      const auto* v = reinterpret_cast<const __m256i*>(p + 160);
      __m256i isum = _mm256_setzero_si256();
      for (int c = 0; c < 4; ++c, v += 8) {
        const int8_t* a_lo = y.qs + 64 * c;
        const int8_t* a_hi = a_lo + 32;
        const auto bcast = [](const int8_t* q) { int32_t x; std::memcpy(&x, q, 4); return _mm256_set1_epi32(x); };
        __m256i s_lo = _mm256_setzero_si256(), s_hi = _mm256_setzero_si256();
        for (int g = 0; g < 8; ++g) {
          const __m256i q = _mm256_loadu_si256(v + g);
          s_lo = _mm256_add_epi16(s_lo, _mm256_maddubs_epi16(_mm256_and_si256(q, low4), bcast(a_lo + 4 * g)));
          s_hi = _mm256_add_epi16(s_hi, _mm256_maddubs_epi16(_mm256_and_si256(_mm256_srli_epi16(q, 4), low4), bcast(a_hi + 4 * g)));
        }
        const uint8_t* sc = p + 32 + 16 * c;  // sub-blocks 2c and 2c + 1
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(s_lo, byte_pairs(sc, sc)));
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(s_hi, byte_pairs(sc + 8, sc + 8)));
      }
      const __m256i bsum = _mm256_broadcastsi128_si256(_mm_hadd_epi16(load128(y.bsums), load128(y.bsums + 8)));
      const uint8_t* m = p + 96;
      __m256i msum = _mm256_madd_epi16(byte_pairs(m, m + 8), _mm256_shuffle_epi32(bsum, 0x00));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(byte_pairs(m + 16, m + 24), _mm256_shuffle_epi32(bsum, 0x55)));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(byte_pairs(m + 32, m + 40), _mm256_shuffle_epi32(bsum, 0xaa)));
      msum = _mm256_add_epi32(msum, _mm256_madd_epi16(byte_pairs(m + 48, m + 56), _mm256_shuffle_epi32(bsum, 0xff)));
      const __m256 d_a = _mm256_set1_ps(y.d);
      acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(p)), d_a), _mm256_cvtepi32_ps(isum), acc);
      mins = _mm256_add_ps(mins, _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(p + 16)), d_a), _mm256_cvtepi32_ps(msum)));
    }
    _mm256_storeu_ps(out + grp * 8, _mm256_sub_ps(acc, mins));
  }
}

// Prefill on interleaved rows: the Q4_K panel of one group, without a transpose.
void pack_panel_from_q4_kx8__avx2(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  const auto* p = static_cast<const uint8_t*>(group);
  auto* out = static_cast<uint8_t*>(panel);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  for (int64_t b = 0; b < n / kQK_K; ++b, p += kQ4KGroupBytes, out += kPanelK4Bytes) {
    _mm256_storeu_ps(reinterpret_cast<float*>(out), _mm256_cvtph_ps(load128(p)));
    _mm256_storeu_ps(reinterpret_cast<float*>(out + 32), _mm256_cvtph_ps(load128(p + 16)));
    auto* sc = reinterpret_cast<__m256i*>(out + 64);
    for (int j = 0; j < 8; ++j) _mm256_storeu_si256(sc + j, byte_pairs(p + 32 + 8 * j, p + 32 + 8 * j));
    auto* mn = reinterpret_cast<__m256i*>(out + 320);
    for (int k = 0; k < 4; ++k) _mm256_storeu_si256(mn + k, byte_pairs(p + 96 + 16 * k, p + 96 + 16 * k + 8));
    const auto* v = reinterpret_cast<const __m256i*>(p + 160);
    auto* groups = reinterpret_cast<__m256i*>(out + 448);
    for (int c = 0; c < 4; ++c) {
      for (int g = 0; g < 8; ++g) {
        const __m256i q = _mm256_loadu_si256(v + 8 * c + g);
        _mm256_storeu_si256(groups + 8 * (2 * c) + g, _mm256_and_si256(q, low4));
        _mm256_storeu_si256(groups + 8 * (2 * c + 1) + g, _mm256_and_si256(_mm256_srli_epi16(q, 4), low4));
      }
    }
  }
}

}  // namespace ple::kernels
