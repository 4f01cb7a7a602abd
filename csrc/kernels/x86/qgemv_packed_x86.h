// GEMVs over rows packed once at load time (kernel_table.h, PackedKernels: pack, accepts,
// group_bytes, gemv, pack_panel) for Q4_0, Q4_1, Q8_0 and Q4_K, 8 rows per group, as templates
// over the x86 ISA policy (policy_avx2.h). Decode runs the GEMV; prefill unpacks a group straight
// into the prefill panel (qpanel_x86.h). Layouts and block steps: qgemv_packed_core_x86.h.
// Included only by qgemv_packed_avx2.cpp and qgemv_packed_avx512.cpp, which instantiate them with
// their policy and export them by name; internal linkage.
#pragma once
#include "kernels/x86/qgemv_packed_core_x86.h"

namespace ple::kernels {
namespace {

template <class Isa>
size_t packed_group_bytes_q4_0x8(int64_t n) { return static_cast<size_t>(n / kQK) * kQ40GroupBytes; }

template <class Isa>
void pack_q4_0x8(int64_t n, const void* w, size_t w_stride, void* out_group) {
  const auto* rows = static_cast<const uint8_t*>(w);
  auto* out = static_cast<uint8_t*>(out_group);
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b, out += kQ40GroupBytes) {
    const BlockQ4_0* x[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) {
      x[r] = reinterpret_cast<const BlockQ4_0*>(rows + static_cast<size_t>(r) * w_stride) + b;
      std::memcpy(out + 2 * r, &x[r]->d, 2);
    }
    const uint8_t* qs[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) qs[r] = x[r]->qs;
    interleave_nibble_words(qs, out + 16);
  }
}

template <class Isa>
void qgemv_q4_0x8_q8_0(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_interleaved_groups<Q4_0x8<Isa>>(n, groups, n_groups, a, out);
}

template <class Isa>
void qgemv_tokens_q4_0x8_q8_0(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens, float* out,
    size_t out_stride) {
  gemv_interleaved_groups_tokens<Q4_0x8<Isa>, Isa::kVectorRegisters>(n, groups, n_groups, a, a_stride, n_tokens, out, out_stride);
}

// Prefill on interleaved rows: the scratch panel of one group, without a transpose.
template <class Isa>
void pack_panel_from_q4_0x8(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
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

template <class Isa>
size_t packed_group_bytes_q4_1x8(int64_t n) { return static_cast<size_t>(n / kQK) * kQ41GroupBytes; }

template <class Isa>
void pack_q4_1x8(int64_t n, const void* w, size_t w_stride, void* out_group) {
  const auto* rows = static_cast<const uint8_t*>(w);
  auto* out = static_cast<uint8_t*>(out_group);
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b, out += kQ41GroupBytes) {
    const BlockQ4_1* x[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) {
      x[r] = reinterpret_cast<const BlockQ4_1*>(rows + static_cast<size_t>(r) * w_stride) + b;
      std::memcpy(out + 2 * r, &x[r]->d, 2);
      std::memcpy(out + 16 + 2 * r, &x[r]->m, 2);
    }
    const uint8_t* qs[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) qs[r] = x[r]->qs;
    interleave_nibble_words(qs, out + 32);
  }
}

template <class Isa>
void qgemv_q4_1x8_q8_1(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_interleaved_groups<Q4_1x8<Isa>>(n, groups, n_groups, a, out);
}

template <class Isa>
void qgemv_tokens_q4_1x8_q8_1(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens, float* out,
    size_t out_stride) {
  gemv_interleaved_groups_tokens<Q4_1x8<Isa>, Isa::kVectorRegisters>(n, groups, n_groups, a, a_stride, n_tokens, out, out_stride);
}

template <class Isa>
void pack_panel_from_q4_1x8(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  const auto* p = static_cast<const uint8_t*>(group);
  auto* out = static_cast<uint8_t*>(panel);
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b, p += kQ41GroupBytes, out += kPanelBlockBytes) {
    _mm256_storeu_ps(reinterpret_cast<float*>(out), _mm256_cvtph_ps(load128(p)));
    _mm256_storeu_ps(reinterpret_cast<float*>(out + 32), _mm256_cvtph_ps(load128(p + 16)));
    auto* g = reinterpret_cast<__m256i*>(out + 64);
    for (int j = 0; j < 4; ++j) {
      __m256i lo, hi;
      unpack_interleaved(p + 32, j, lo, hi);
      _mm256_storeu_si256(g + j, lo);
      _mm256_storeu_si256(g + j + 4, hi);
    }
  }
}

template <class Isa>
size_t packed_group_bytes_q8_0x8(int64_t n) { return static_cast<size_t>(n / kQK) * kQ80GroupBytes; }

template <class Isa>
bool pack_accepts_q8_0x8(int64_t n, const void* w, size_t w_stride, int64_t rows) {
  const __m256i minus128 = _mm256_set1_epi8(static_cast<char>(0x80));
  const int64_t nb = n / kQK;
  for (int64_t r = 0; r < rows; ++r) {
    const auto* x = reinterpret_cast<const BlockQ8_0*>(static_cast<const uint8_t*>(w) + static_cast<size_t>(r) * w_stride);
    __m256i any = _mm256_setzero_si256();
    for (int64_t b = 0; b < nb; ++b) any = _mm256_or_si256(any, _mm256_cmpeq_epi8(load256(x[b].qs), minus128));
    if (!_mm256_testz_si256(any, any)) return false;
  }
  return true;
}

template <class Isa>
void pack_q8_0x8(int64_t n, const void* w, size_t w_stride, void* out_group) {
  const auto* rows = static_cast<const uint8_t*>(w);
  auto* out = static_cast<uint8_t*>(out_group);
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b, out += kQ80GroupBytes) {
    __m256i v[kPanelRows];
    for (int r = 0; r < kPanelRows; ++r) {
      const BlockQ8_0& x = reinterpret_cast<const BlockQ8_0*>(rows + static_cast<size_t>(r) * w_stride)[b];
      std::memcpy(out + 2 * r, &x.d, 2);
      v[r] = load256(x.qs);
    }
    __m256i g[8];
    transpose_words(v, g);
    for (int k = 0; k < 8; ++k) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16) + k, g[k]);
  }
}

template <class Isa>
void qgemv_q8_0x8_q8_0(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_interleaved_groups<Q8_0x8<Isa>>(n, groups, n_groups, a, out);
}

template <class Isa>
void qgemv_tokens_q8_0x8_q8_0(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens, float* out,
    size_t out_stride) {
  gemv_interleaved_groups_tokens<Q8_0x8<Isa>, Isa::kVectorRegisters>(n, groups, n_groups, a, a_stride, n_tokens, out, out_stride);
}

template <class Isa>
void pack_panel_from_q8_0x8(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  const auto* p = static_cast<const uint8_t*>(group);
  auto* out = static_cast<uint8_t*>(panel);
  const int64_t nb = n / kQK;
  for (int64_t b = 0; b < nb; ++b, p += kQ80GroupBytes, out += kPanelQ80Bytes<Isa>) {
    _mm256_storeu_ps(reinterpret_cast<float*>(out), _mm256_cvtph_ps(load128(p)));
    __m256i g[8];
    for (int k = 0; k < 8; ++k) g[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 16) + k);
    store_q8_0_panel_groups<Isa>(g, out);
  }
}

template <class Isa>
size_t packed_group_bytes_q4_kx8(int64_t n) { return static_cast<size_t>(n / kQK_K) * kQ4KGroupBytes; }

template <class Isa>
void pack_q4_kx8(int64_t n, const void* w, size_t w_stride, void* out_group) {
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

template <class Isa>
void qgemv_q4_kx8_q8_k(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_interleaved_groups<Q4_Kx8>(n, groups, n_groups, a, out);
}

template <class Isa>
void qgemv_tokens_q4_kx8_q8_k(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens, float* out,
    size_t out_stride) {
  gemv_interleaved_groups_tokens<Q4_Kx8, Isa::kVectorRegisters>(n, groups, n_groups, a, a_stride, n_tokens, out, out_stride);
}

// Prefill on interleaved rows: the Q4_K panel of one group, without a transpose.
template <class Isa>
void pack_panel_from_q4_kx8(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
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

}  // namespace
}  // namespace ple::kernels
