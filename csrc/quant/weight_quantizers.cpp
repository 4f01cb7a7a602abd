// Weight quantizers (float32 rows -> GGUF blocks), the inverses of the dequantizers in
// kernels/ref/ref_legacy.cpp / ref_kquants.cpp, and their registry (weight_quantizer.h). Used offline by the model quantizer, so they favour quality
// over speed.
//
// Legacy formats (Q4_0 .. Q8_0) use the usual closed-form rules: symmetric types take the element
// of largest magnitude (with its sign) as -levels/2 (Q4_0, Q5_0) or max|x| as 127 (Q8_0);
// asymmetric ones spread [min, max] over 0..levels. That is what ggml does without an importance
// matrix, so the error matches llama.cpp's.
//
// k-quants: each sub-block gets a scale (and, for Q2_K/Q4_K/Q5_K, a min) from a weighted
// least-squares search over candidate inverse scales: for each candidate the quants are rounded,
// then the best scale (and min) *for those quants* is solved in closed form, and the candidate
// with the lowest weighted error wins. Sub-block scales are then quantized against a super-block
// scale (4, 6 or 8 bits); each sub-block then takes the best of the rounded integer scale (and
// min) and their +-1 neighbours, with the quants recomputed for each, so the stored integers are
// exactly those the dequantizer multiplies. Weights: |x| + rms for Q4_K/Q5_K, |x| for Q2_K, x^2
// for Q6_K (large elements matter most for the matmul output), none for Q3_K (see below).
//
// Each function packs integer quants given in element order; the bit layouts are the inverses of
// the unpackers documented in kernels/ref/ref_kquants.cpp.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "quant/blocks.h"
#include "quant/symmetric_i8.h"
#include "quant/weight_quantizer.h"

namespace ple {
namespace {

// Round half away from zero, like lround but inlined (the searches round millions of times per
// tensor). Callers clamp the result; |v| stays far below INT_MAX for finite inputs.
inline int nearest(float v) { return static_cast<int>(v + (v >= 0.0f ? 0.5f : -0.5f)); }
inline int clampi(int v, int lo, int hi) { return std::min(hi, std::max(lo, v)); }

// ---- legacy helpers ----

// Symmetric block: d = signed extreme / -half, q = clamp(round(x/d) + half, 0, 2*half-1).
inline float quantize_sym_block(const float* x, int half, int q[kQK]) {
  float amax = 0.0f, extreme = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      extreme = x[j];
    }
  }
  const float d = extreme / static_cast<float>(-half);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < kQK; ++j) q[j] = clampi(static_cast<int>(x[j] * id + static_cast<float>(half) + 0.5f), 0, 2 * half - 1);
  return d;
}

// Asymmetric block: x ~ d*q + m with m = min, d = (max - min) / levels.
inline void quantize_asym_block(const float* x, int levels, int q[kQK], float* d_out, float* m_out) {
  float lo = x[0], hi = x[0];
  for (int j = 1; j < kQK; ++j) {
    lo = std::min(lo, x[j]);
    hi = std::max(hi, x[j]);
  }
  const float d = (hi - lo) / static_cast<float>(levels);
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  for (int j = 0; j < kQK; ++j) q[j] = clampi(static_cast<int>((x[j] - lo) * id + 0.5f), 0, levels);
  *d_out = d;
  *m_out = lo;
}

inline void pack_nibbles_legacy(const int q[kQK], uint8_t qs[kQK / 2]) {
  for (int j = 0; j < kQK / 2; ++j) qs[j] = static_cast<uint8_t>((q[j] & 0x0f) | ((q[j + kQK / 2] & 0x0f) << 4));
}

inline void pack_fifth_bits(const int q[kQK], uint8_t qh_bytes[4]) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK; ++j) qh |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
  std::memcpy(qh_bytes, &qh, sizeof qh);
}

// ---- k-quant scale searches ----

// Asymmetric: x ~ scale*q - offset with q in 0..nmax and offset >= 0 (the format stores a
// non-negative "min" that is subtracted). Tries inverse scales (nmax + rmin + rdelta*i) / range,
// solves the weighted least-squares (scale, offset) for each candidate's quants, keeps the best.
// Returns the scale; *offset receives the offset; q receives the quants for the returned pair.
float search_scale_min(const float* x, const float* w, int n, int nmax, float rmin, float rdelta, int nstep,
                       int* q, float* offset) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  lo = std::min(lo, 0.0f);
  if (hi <= lo) {
    std::fill(q, q + n, 0);
    *offset = -lo;
    return 0.0f;
  }
  float sw = 0, swx = 0;
  for (int i = 0; i < n; ++i) {
    sw += w[i];
    swx += w[i] * x[i];
  }
  auto error_of = [&](float s, float m) {  // m is the (non-positive) additive minimum
    float e = 0;
    for (int i = 0; i < n; ++i) {
      const float r = s * static_cast<float>(q[i]) + m - x[i];
      e += w[i] * r * r;
    }
    return e;
  };
  // Start: plain min/max.
  float best_s = (hi - lo) / static_cast<float>(nmax), best_m = lo;
  for (int i = 0; i < n; ++i) q[i] = clampi(nearest((x[i] - lo) / best_s), 0, nmax);
  float best_e = error_of(best_s, best_m);
  int cand[kQK_K];
  for (int step = 0; step <= nstep; ++step) {
    const float iscale = (rmin + rdelta * static_cast<float>(step) + static_cast<float>(nmax)) / (hi - lo);
    float swq = 0, swq2 = 0, swqx = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clampi(nearest(iscale * (x[i] - lo)), 0, nmax);
      cand[i] = l;
      swq += w[i] * static_cast<float>(l);
      swq2 += w[i] * static_cast<float>(l) * static_cast<float>(l);
      swqx += w[i] * static_cast<float>(l) * x[i];
    }
    // Normal equations of min over (s, m) of sum w (s*l + m - x)^2.
    const float det = sw * swq2 - swq * swq;
    if (det <= 0) continue;
    float s = (sw * swqx - swq * swx) / det;
    float m = (swq2 * swx - swq * swqx) / det;
    if (m > 0) {  // the format cannot add a positive offset
      m = 0;
      s = swqx / swq2;
    }
    float e = 0;
    for (int i = 0; i < n; ++i) {
      const float r = s * static_cast<float>(cand[i]) + m - x[i];
      e += w[i] * r * r;
    }
    if (e < best_e && s > 0) {
      best_e = e;
      best_s = s;
      best_m = m;
      std::copy(cand, cand + n, q);
    }
  }
  *offset = -best_m;
  return best_s;
}

// Symmetric: x ~ scale*q with q in -nmax..nmax-1. Candidate inverse scales around -nmax/extreme
// (the extreme's sign picks which end of the range gets the extra level), closed-form scale for
// each candidate's quants. Returns the scale; q receives the quants.
float search_scale_sym(const float* x, const float* w, int n, int nmax, int* q) {
  float amax = 0, extreme = 0;
  for (int i = 0; i < n; ++i) {
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      extreme = x[i];
    }
  }
  if (amax < 1e-30f) {
    std::fill(q, q + n, 0);
    return 0.0f;
  }
  float best_score = -1, best_s = 0;
  int cand[kQK_K];
  for (int step = -12; step <= 12; ++step) {
    const float iscale = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(step)) / extreme;
    float swqx = 0, swq2 = 0;
    for (int i = 0; i < n; ++i) {
      const int l = clampi(nearest(iscale * x[i]), -nmax, nmax - 1);
      cand[i] = l;
      swqx += w[i] * static_cast<float>(l) * x[i];
      swq2 += w[i] * static_cast<float>(l) * static_cast<float>(l);
    }
    // Error = sum w x^2 - swqx^2 / swq2 at the optimal scale swqx / swq2: maximize swqx^2 / swq2.
    if (swq2 <= 0) continue;
    const float score = swqx * swqx / swq2;
    if (score > best_score) {
      best_score = score;
      best_s = swqx / swq2;
      std::copy(cand, cand + n, q);
    }
  }
  return best_s;
}

// Re-derives quants for a fixed (quantized) scale and offset.
inline void requantize_asym(const float* x, int n, float scale, float offset, int nmax, int* q) {
  for (int i = 0; i < n; ++i) q[i] = scale > 0 ? clampi(nearest((x[i] + offset) / scale), 0, nmax) : 0;
}
inline void requantize_sym(const float* x, int n, float scale, int nmax, int* q) {
  for (int i = 0; i < n; ++i) q[i] = scale != 0 ? clampi(nearest(x[i] / scale), -nmax, nmax - 1) : 0;
}

// Asymmetric k-quant super-block shared by Q2_K (16 x 16, 4-bit scales), Q4_K and Q5_K
// (8 x 32, 6-bit scales). Out: fp16 d and dmin, integer sub-block scales/mins, quants 0..nmax.
struct AsymResult {
  uint16_t d, dmin;
  int sc[16], mn[16];
  int q[kQK_K];
};

void quantize_asym_superblock(const float* x, int sub, int nmax, int scale_levels, float rmin, float rdelta, int nstep,
                              bool weight_by_abs_only, AsymResult* r) {
  const int nsub = kQK_K / sub;
  float sumx2 = 0;
  for (int i = 0; i < kQK_K; ++i) sumx2 += x[i] * x[i];
  const float rms = std::sqrt(sumx2 / kQK_K);
  float w[kQK_K], scales[16], offsets[16];
  for (int i = 0; i < kQK_K; ++i) w[i] = std::fabs(x[i]) + (weight_by_abs_only ? 0.0f : rms);
  float max_scale = 0, max_offset = 0;
  for (int j = 0; j < nsub; ++j) {
    scales[j] = search_scale_min(x + sub * j, w + sub * j, sub, nmax, rmin, rdelta, nstep, r->q + sub * j, &offsets[j]);
    max_scale = std::max(max_scale, scales[j]);
    max_offset = std::max(max_offset, offsets[j]);
  }
  const float lv = static_cast<float>(scale_levels);
  r->d = fp32_to_fp16(max_scale / lv);
  r->dmin = fp32_to_fp16(max_offset / lv);
  const float d = fp16_to_fp32(r->d), dmin = fp16_to_fp32(r->dmin);
  for (int j = 0; j < nsub; ++j) {
    const int sc0 = d > 0 ? clampi(nearest(scales[j] / d), 0, scale_levels) : 0;
    const int mn0 = dmin > 0 ? clampi(nearest(offsets[j] / dmin), 0, scale_levels) : 0;
    // The rounded integer scale and min need not be the best pair: try the neighbours too, each
    // with its own requantized quants, and keep the lowest weighted error.
    const float* xs = x + sub * j;
    const float* ws = w + sub * j;
    int* qs = r->q + sub * j;
    int cand[32];
    float best_e = INFINITY;
    for (int ds = -1; ds <= 1; ++ds) {
      for (int dm = -1; dm <= 1; ++dm) {
        const int sc = sc0 + ds, mn = mn0 + dm;
        if (sc < 0 || sc > scale_levels || mn < 0 || mn > scale_levels) continue;
        const float step = d * static_cast<float>(sc), off = dmin * static_cast<float>(mn);
        requantize_asym(xs, sub, step, off, nmax, cand);
        float e = 0;
        for (int i = 0; i < sub; ++i) {
          const float res = step * static_cast<float>(cand[i]) - off - xs[i];
          e += ws[i] * res * res;
        }
        if (e < best_e) {
          best_e = e;
          r->sc[j] = sc;
          r->mn[j] = mn;
          std::copy(cand, cand + sub, qs);
        }
      }
    }
  }
}

void pack_scales_mins_k4(const int sc[8], const int m[8], uint8_t packed[kKScaleBytes]) {
  for (int j = 0; j < 4; ++j) {
    packed[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    packed[j + 4] = static_cast<uint8_t>(m[j] | ((m[j + 4] >> 4) << 6));
    packed[j + 8] = static_cast<uint8_t>((sc[j + 4] & 0x0f) | ((m[j + 4] & 0x0f) << 4));
  }
}

void pack_q4_k_nibbles(const int q[kQK_K], uint8_t qs[kQK_K / 2]) {
  for (int c = 0; c < 4; ++c) {
    for (int l = 0; l < 32; ++l) qs[32 * c + l] = static_cast<uint8_t>((q[64 * c + l] & 0x0f) | ((q[64 * c + 32 + l] & 0x0f) << 4));
  }
}

// Two-bit fields of Q2_K / Q3_K: element 128h + 32s + l at bits 2s of byte 32h + l.
void pack_2bit(const int u[kQK_K], uint8_t qs[kQK_K / 4]) {
  std::memset(qs, 0, kQK_K / 4);
  for (int e = 0; e < kQK_K; ++e) {
    const int h = e / 128, s = (e % 128) / 32, l = e % 32;
    qs[32 * h + l] |= static_cast<uint8_t>((u[e] & 3) << (2 * s));
  }
}


// ---- legacy ----

void quantize_weight_q4_0(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ4_0*>(y);
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    int q[kQK];
    blocks[b].d = fp32_to_fp16(quantize_sym_block(x, 8, q));
    pack_nibbles_legacy(q, blocks[b].qs);
  }
}

void quantize_weight_q5_0(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ5_0*>(y);
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    int q[kQK];
    blocks[b].d = fp32_to_fp16(quantize_sym_block(x, 16, q));
    pack_fifth_bits(q, blocks[b].qh);
    pack_nibbles_legacy(q, blocks[b].qs);
  }
}

void quantize_weight_q4_1(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ4_1*>(y);
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    int q[kQK];
    float d, m;
    quantize_asym_block(x, 15, q, &d, &m);
    blocks[b].d = fp32_to_fp16(d);
    blocks[b].m = fp32_to_fp16(m);
    pack_nibbles_legacy(q, blocks[b].qs);
  }
}

void quantize_weight_q5_1(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ5_1*>(y);
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) {
    int q[kQK];
    float d, m;
    quantize_asym_block(x, 31, q, &d, &m);
    blocks[b].d = fp32_to_fp16(d);
    blocks[b].m = fp32_to_fp16(m);
    pack_fifth_bits(q, blocks[b].qh);
    pack_nibbles_legacy(q, blocks[b].qs);
  }
}

void quantize_weight_q8_0(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ8_0*>(y);
  for (int64_t b = 0; b < n / kQK; ++b, x += kQK) blocks[b].d = fp32_to_fp16(quantize_symmetric_i8(x, kQK, blocks[b].qs));
}

// ---- k-quants ----

// Q2_K: 16 sub-blocks of 16, quants 0..3, 4-bit scales and mins. Weights |x| only (the small
// range makes the largest elements dominate).
void quantize_weight_q2_k(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ2_K*>(y);
  AsymResult r;
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    quantize_asym_superblock(x, 16, 3, 15, -0.5f, 0.1f, 15, true, &r);
    blocks[b].d = r.d;
    blocks[b].dmin = r.dmin;
    for (int j = 0; j < 16; ++j) blocks[b].scales[j] = static_cast<uint8_t>(r.sc[j] | (r.mn[j] << 4));
    pack_2bit(r.q, blocks[b].qs);
  }
}

void quantize_weight_q4_k(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ4_K*>(y);
  AsymResult r;
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    quantize_asym_superblock(x, 32, 15, 63, -1.0f, 0.1f, 20, false, &r);
    blocks[b].d = r.d;
    blocks[b].dmin = r.dmin;
    pack_scales_mins_k4(r.sc, r.mn, blocks[b].scales);
    pack_q4_k_nibbles(r.q, blocks[b].qs);
  }
}

void quantize_weight_q5_k(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ5_K*>(y);
  AsymResult r;
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    quantize_asym_superblock(x, 32, 31, 63, -0.5f, 0.1f, 15, false, &r);
    blocks[b].d = r.d;
    blocks[b].dmin = r.dmin;
    pack_scales_mins_k4(r.sc, r.mn, blocks[b].scales);
    pack_q4_k_nibbles(r.q, blocks[b].qs);
    std::memset(blocks[b].qh, 0, sizeof blocks[b].qh);
    for (int e = 0; e < kQK_K; ++e) blocks[b].qh[e % 32] |= static_cast<uint8_t>(((r.q[e] >> 4) & 1) << (e / 32));
  }
}

// Symmetric super-blocks: 16 sub-blocks of 16, sub-block scales quantized to signed integers
// against the super-block scale d (6-bit -32..31 for Q3_K, int8 for Q6_K), d chosen so that the
// largest-magnitude sub-block scale maps to the negative end. Q6_K weights elements by x^2 (large
// elements matter most); Q3_K, with only 8 levels, fits plain least squares: with x^2 weights its
// RMSE came out ~2% above llama.cpp's, unweighted ~4% below (bench/README_quant.md).
void quantize_sym_superblock(const float* x, int nmax, int scale_half, bool weight_by_square, float* d_out, int sc[16],
                             int q[kQK_K]) {
  float w[kQK_K], scales[16];
  for (int i = 0; i < kQK_K; ++i) w[i] = weight_by_square ? x[i] * x[i] : 1.0f;
  float amax = 0, extreme = 0;
  for (int j = 0; j < 16; ++j) {
    scales[j] = search_scale_sym(x + 16 * j, w + 16 * j, 16, nmax, q + 16 * j);
    if (std::fabs(scales[j]) > amax) {
      amax = std::fabs(scales[j]);
      extreme = scales[j];
    }
  }
  const float d = fp16_to_fp32(fp32_to_fp16(extreme / static_cast<float>(-scale_half)));
  *d_out = d;
  for (int j = 0; j < 16; ++j) {
    const int sc0 = d != 0 ? clampi(nearest(scales[j] / d), -scale_half, scale_half - 1) : 0;
    // As for the asymmetric types: the neighbours of the rounded integer scale may fit better.
    const float* xs = x + 16 * j;
    const float* ws = w + 16 * j;
    int cand[16];
    float best_e = INFINITY;
    for (int ds = -1; ds <= 1; ++ds) {
      const int s = sc0 + ds;
      if (s < -scale_half || s > scale_half - 1 || (ds != 0 && d == 0)) continue;
      const float step = d * static_cast<float>(s);
      requantize_sym(xs, 16, step, nmax, cand);
      float e = 0;
      for (int i = 0; i < 16; ++i) {
        const float res = step * static_cast<float>(cand[i]) - xs[i];
        e += ws[i] * res * res;
      }
      if (e < best_e) {
        best_e = e;
        sc[j] = s;
        std::copy(cand, cand + 16, q + 16 * j);
      }
    }
  }
}

void quantize_weight_q3_k(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ3_K*>(y);
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    float d;
    int sc[16], q[kQK_K];
    quantize_sym_superblock(x, 4, 32, false, &d, sc, q);
    BlockQ3_K& blk = blocks[b];
    blk.d = fp32_to_fp16(d);
    std::memset(blk.scales, 0, sizeof blk.scales);
    for (int k = 0; k < 16; ++k) {
      const int u = sc[k] + 32;
      blk.scales[k % 8] |= static_cast<uint8_t>((u & 0x0f) << (k < 8 ? 0 : 4));
      blk.scales[8 + k % 4] |= static_cast<uint8_t>((u >> 4) << (2 * (k / 4)));
    }
    int u[kQK_K];
    std::memset(blk.hmask, 0, sizeof blk.hmask);
    for (int e = 0; e < kQK_K; ++e) {
      u[e] = q[e] + 4;  // 0..7: bit 2 goes to hmask (a clear bit subtracts 4 on decode)
      blk.hmask[e % 32] |= static_cast<uint8_t>((u[e] >> 2) << (e / 32));
    }
    pack_2bit(u, blk.qs);
  }
}

void quantize_weight_q6_k(const float* x, void* y, int64_t n) {
  auto* blocks = static_cast<BlockQ6_K*>(y);
  for (int64_t b = 0; b < n / kQK_K; ++b, x += kQK_K) {
    float d;
    int sc[16], q[kQK_K];
    quantize_sym_superblock(x, 32, 128, true, &d, sc, q);
    BlockQ6_K& blk = blocks[b];
    blk.d = fp32_to_fp16(d);
    for (int j = 0; j < 16; ++j) blk.scales[j] = static_cast<int8_t>(sc[j]);
    std::memset(blk.qh, 0, sizeof blk.qh);
    for (int h = 0; h < 2; ++h) {
      for (int l = 0; l < 64; ++l) {
        const int lo = q[128 * h + l] + 32, hi = q[128 * h + 64 + l] + 32;
        blk.ql[64 * h + l] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
      }
      for (int s = 0; s < 4; ++s) {
        for (int l = 0; l < 32; ++l) {
          blk.qh[32 * h + l] |= static_cast<uint8_t>(((q[128 * h + 32 * s + l] + 32) >> 4) << (2 * s));
        }
      }
    }
  }
}

}  // namespace

WeightQuantizeFn weight_quantizer(GGMLType type) {
  switch (type) {
    case GGMLType::Q4_0: return quantize_weight_q4_0;
    case GGMLType::Q4_1: return quantize_weight_q4_1;
    case GGMLType::Q5_0: return quantize_weight_q5_0;
    case GGMLType::Q5_1: return quantize_weight_q5_1;
    case GGMLType::Q8_0: return quantize_weight_q8_0;
    case GGMLType::Q2_K: return quantize_weight_q2_k;
    case GGMLType::Q3_K: return quantize_weight_q3_k;
    case GGMLType::Q4_K: return quantize_weight_q4_k;
    case GGMLType::Q5_K: return quantize_weight_q5_k;
    case GGMLType::Q6_K: return quantize_weight_q6_k;
    default: return nullptr;
  }
}

}  // namespace ple
