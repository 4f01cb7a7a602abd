// Prefill panels (kernel_table.h, PanelKernel) of Q4_0, Q4_1, Q8_0, Q4_K and Q6_K, as templates
// over the x86 ISA policy (policy_avx2.h): 8 weight rows are packed into a scratch panel once per
// chunk of tokens, then every token of the chunk streams through it. Layouts, overflow bounds and
// the shared block steps: qpanel_core_x86.h. Included only by qpanel_avx2.cpp and
// qpanel_avx512.cpp, which instantiate them with their policy and export them by name; internal
// linkage.
#pragma once
#include "kernels/x86/qpanel_core_x86.h"

namespace ple::kernels {
namespace {

template <class Isa>
size_t panel_bytes_q4_0(int64_t n) { return static_cast<size_t>(n / kQK) * kPanelBlockBytes; }

// Packing is vectorized so that its cost stays small next to a chunk of tokens: the rows' quants
// are unpacked (q - 8) and an 8 x 8 transpose of 32-bit groups interleaves them.
template <class Isa>
void pack_panel_q4_0(int64_t n, const void* w, size_t w_stride, void* panel) {
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

template <class Isa>
void qpanel_q4_0_q8_0(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens,
                                      float* out, size_t out_stride) {
  gemm_signed_panel<Isa>(n, panel, a, a_stride, n_tokens, out, out_stride);
}

template <class Isa>
size_t panel_bytes_q4_1(int64_t n) { return static_cast<size_t>(n / kQK) * kPanelBlockBytes; }

template <class Isa>
void pack_panel_q4_1(int64_t n, const void* w, size_t w_stride, void* panel) {
  const auto* rows = static_cast<const uint8_t*>(w);
  auto* out = static_cast<uint8_t*>(panel);
  const int64_t nb = n / kQK;
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i shift = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
  for (int64_t b = 0; b < nb; ++b, out += kPanelBlockBytes) {
    __m256i v[kPanelRows];  // row r's 32 quants, in element order
    uint16_t d[kPanelRows], m[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) {
      const BlockQ4_1& x = reinterpret_cast<const BlockQ4_1*>(rows + static_cast<size_t>(r) * w_stride)[b];
      v[r] = _mm256_and_si256(_mm256_srlv_epi32(_mm256_broadcastsi128_si256(load128(x.qs)), shift), low4);
      d[r] = x.d;
      m[r] = x.m;
    }
    _mm256_storeu_ps(reinterpret_cast<float*>(out), _mm256_cvtph_ps(load128(d)));
    _mm256_storeu_ps(reinterpret_cast<float*>(out + 32), _mm256_cvtph_ps(load128(m)));
    __m256i g[8];
    transpose_words(v, g);
    for (int k = 0; k < 8; ++k) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 64) + k, g[k]);
  }
}

template <class Isa>
void qpanel_q4_1_q8_1(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens,
                                      float* out, size_t out_stride) {
  const int64_t nb = n / kQK;
  const __m128i no_flip = _mm_setzero_si128();
  const auto* p0 = static_cast<const uint8_t*>(panel);
  for (int64_t t = 0; t < n_tokens; ++t) {
    const auto* act = reinterpret_cast<const BlockQ8_1*>(static_cast<const uint8_t*>(a) + static_cast<size_t>(t) * a_stride);
    SumsWithMins sums;
    const uint8_t* p = p0;
    for (int64_t b = 0; b < nb; ++b, p += kPanelBlockBytes) {
      __m256i ag[8];
      activation_groups(act[b].qs, no_flip, ag);
      const __m256i isum = group_sums<Isa, true>(reinterpret_cast<const __m256i*>(p + 64), ag, 0, 8);
      q4_1_block(_mm256_loadu_ps(reinterpret_cast<const float*>(p)), _mm256_loadu_ps(reinterpret_cast<const float*>(p + 32)),
                 isum, _mm256_set1_ps(half_to_float(act[b].d)), _mm256_set1_ps(half_to_float(act[b].s)), sums);
    }
    store_rows(sums.result(), out + static_cast<size_t>(t) * out_stride);
  }
}

template <class Isa>
size_t panel_bytes_q4_k(int64_t n) { return static_cast<size_t>(n / kQK_K) * kPanelK4Bytes; }

template <class Isa>
void pack_panel_q4_k(int64_t n, const void* w, size_t w_stride, void* panel) {
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

template <class Isa>
void qpanel_q4_k_q8_k(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens,
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

template <class Isa>
size_t panel_bytes_q6_k(int64_t n) { return static_cast<size_t>(n / kQK_K) * kPanelQ6KBytes; }

template <class Isa>
void pack_panel_q6_k(int64_t n, const void* w, size_t w_stride, void* panel) {
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

template <class Isa>
void qpanel_q6_k_q8_k(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens,
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

template <class Isa>
size_t panel_bytes_q8_0(int64_t n) { return static_cast<size_t>(n / kQK) * kPanelQ80Bytes<Isa>; }

template <class Isa>
void pack_panel_q8_0(int64_t n, const void* w, size_t w_stride, void* panel) {
  const auto* rows = static_cast<const uint8_t*>(w);
  auto* out = static_cast<uint8_t*>(panel);
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b, out += kPanelQ80Bytes<Isa>) {
    __m256i v[kPanelRows];
    uint16_t h[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) {
      const BlockQ8_0& x = reinterpret_cast<const BlockQ8_0*>(rows + static_cast<size_t>(r) * w_stride)[b];
      h[r] = x.d;
      v[r] = load256(x.qs);
    }
    _mm256_storeu_ps(reinterpret_cast<float*>(out), _mm256_cvtph_ps(load128(h)));
    __m256i g[8];
    transpose_words(v, g);
    store_q8_0_panel_groups<Isa>(g, out);
  }
}

template <class Isa>
void qpanel_q8_0_q8_0(int64_t n, const void* panel, const void* a, size_t a_stride, int64_t n_tokens,
                                      float* out, size_t out_stride) {
  if constexpr (!Isa::kSaturatingPairs) {
    gemm_signed_panel<Isa>(n, panel, a, a_stride, n_tokens, out, out_stride);
  } else {
    const int64_t nb = n / kQK;
    const __m256i ones = _mm256_set1_epi16(1), sixteens = _mm256_set1_epi16(16);
    const __m128i sign = _mm_set1_epi8(static_cast<char>(0x80));
    const auto* p0 = static_cast<const uint8_t*>(panel);
    for (int64_t t = 0; t < n_tokens; ++t) {
      const auto* act = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(a) + static_cast<size_t>(t) * a_stride);
      __m256 acc = _mm256_setzero_ps();
      const uint8_t* p = p0;
      for (int64_t b = 0; b < nb; ++b, p += kPanelQ80Bytes<Isa>) {
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
}

}  // namespace
}  // namespace ple::kernels
