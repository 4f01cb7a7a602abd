// Internals of the GEMVs over rows packed at load time (qgemv_packed_x86.h): the packed-group
// layouts of Q4_0, Q4_1, Q8_0 and Q4_K, 8 rows per group, and their per-block steps (templates
// over the ISA policy where the ISAs differ, policy_avx2.h), over the panel internals of
// qpanel_core_x86.h (prefill builds a panel straight from a group). Internal linkage.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/x86/qpanel_core_x86.h"

namespace ple::kernels {
namespace {

// Decode over interleaved groups (PackedKernels::gemv): out[g * 8 + r] = dot(row 8g + r, a).
// Two groups per pass share what depends on the activation block alone (its broadcast groups,
// scale and sums: Format::Prepared), which the per-group work then reuses (Format::block); each
// row still runs its format's per-block sequence, so outputs equal the dot as before. Each of
// the pass's streams prefetches the same block of the next pass's groups: streams the hardware
// prefetcher has not seen yet (measurements: bench/README.md, "Packed-row GEMV").

template <class Format>
void gemv_interleaved_groups(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  const int64_t nb = n / Format::kBlockElems;
  const size_t group_bytes = static_cast<size_t>(nb) * Format::kGroupBytes;
  const auto* act = static_cast<const typename Format::Activation*>(a);
  const auto pass = [&](int64_t first, auto count) {
    constexpr int kGroups = decltype(count)::value;
    const uint8_t* p = static_cast<const uint8_t*>(groups) + static_cast<size_t>(first) * group_bytes;
    typename Format::Sums acc[kGroups];
    for (int64_t b = 0; b < nb; ++b, p += Format::kGroupBytes) {
      for (int g = 0; g < kGroups; ++g) prefetch_lines(p + (kGroups + g) * group_bytes, Format::kGroupBytes);
      const typename Format::Prepared prepared(act[b]);
      for (int g = 0; g < kGroups; ++g) Format::block(p + g * group_bytes, prepared, acc[g]);
    }
    for (int g = 0; g < kGroups; ++g) _mm256_storeu_ps(out + (first + g) * kPanelRows, acc[g].result());
  };
  int64_t grp = 0;
  for (; grp + 2 <= n_groups; grp += 2) pass(grp, std::integral_constant<int, 2>());
  if (grp < n_groups) pass(grp, std::integral_constant<int, 1>());
}

// Several tokens over the same groups (PackedKernels::gemv_tokens: the decode steps of sessions
// batched into one pass): each block of a pass's groups is read once for all kTokens tokens, its
// unpacking shared (the compiler sees the same loads), and every token's rows run the same
// per-block sequence as gemv_interleaved_groups, so each token's outputs equal its GEMV's bit for
// bit. A format with a TokenPrepared (a few bytes per block and token: its activation groups are
// broadcast from memory as they are used) has it built once per call for every block and token;
// the others build their Prepared per pass, as the GEMV does (a buffer of those, 320 bytes per
// block and token, streams from L2 and costs more than it saves).
template <class Format, class = void>
struct HasTokenPrepared : std::false_type {};
template <class Format>
struct HasTokenPrepared<Format, std::void_t<typename Format::TokenPrepared>> : std::true_type {};

template <class Format, int kTokens, int kGroups>
void gemv_groups_for_tokens(int64_t n, const uint8_t* groups, int64_t n_groups, const uint8_t* a, size_t a_stride,
                            float* out, size_t out_stride) {
  using Activation = typename Format::Activation;
  constexpr bool kCompact = HasTokenPrepared<Format>::value;
  const int64_t nb = n / Format::kBlockElems;
  const size_t group_bytes = static_cast<size_t>(nb) * Format::kGroupBytes;
  const Activation* act[kTokens];
  for (int t = 0; t < kTokens; ++t) act[t] = reinterpret_cast<const Activation*>(a + t * a_stride);
  [[maybe_unused]] const void* compact = nullptr;  // TokenPrepared[nb][kTokens]
  if constexpr (kCompact) {
    using TokenPrepared = typename Format::TokenPrepared;
    static_assert(std::is_trivially_destructible<TokenPrepared>::value, "dropped without destruction");
    thread_local std::vector<TokenPrepared> buffer;
    if (buffer.size() < static_cast<size_t>(nb) * kTokens) buffer.resize(static_cast<size_t>(nb) * kTokens);
    for (int64_t b = 0; b < nb; ++b) {
      for (int t = 0; t < kTokens; ++t) buffer[static_cast<size_t>(b) * kTokens + t] = TokenPrepared(act[t][b]);
    }
    compact = buffer.data();
  }
  const auto pass = [&](int64_t first, auto count) {
    constexpr int kPassGroups = decltype(count)::value;
    const uint8_t* p = groups + static_cast<size_t>(first) * group_bytes;
    typename Format::Sums acc[kPassGroups][kTokens];
    for (int64_t b = 0; b < nb; ++b, p += Format::kGroupBytes) {
      for (int g = 0; g < kPassGroups; ++g) prefetch_lines(p + (kPassGroups + g) * group_bytes, Format::kGroupBytes);
      for (int t = 0; t < kTokens; ++t) {
        if constexpr (kCompact) {
          const auto& prepared = static_cast<const typename Format::TokenPrepared*>(compact)[b * kTokens + t];
          for (int g = 0; g < kPassGroups; ++g) Format::block(p + g * group_bytes, prepared, acc[g][t]);
        } else {
          const typename Format::Prepared prepared(act[t][b]);
          for (int g = 0; g < kPassGroups; ++g) Format::block(p + g * group_bytes, prepared, acc[g][t]);
        }
      }
    }
    for (int g = 0; g < kPassGroups; ++g) {
      for (int t = 0; t < kTokens; ++t) _mm256_storeu_ps(out + t * out_stride + (first + g) * kPanelRows, acc[g][t].result());
    }
  };
  int64_t grp = 0;
  for (; grp + kGroups <= n_groups; grp += kGroups) pass(grp, std::integral_constant<int, kGroups>());
  for (; grp < n_groups; ++grp) pass(grp, std::integral_constant<int, 1>());
}

// out[t * out_stride + g * 8 + r] = dot(row 8g + r, token t's activations) for n_tokens tokens,
// four at a time. With 32 vector registers (AVX-512) three or four tokens take two groups per
// pass; with 16 (AVX2) one, which spills less (bench/README.md, "Batched decoding").
template <class Format, int kVectorRegisters>
void gemv_interleaved_groups_tokens(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride,
                                    int64_t n_tokens, float* out, size_t out_stride) {
  constexpr int kWideGroups = kVectorRegisters >= 32 ? 2 : 1;
  const auto* w = static_cast<const uint8_t*>(groups);
  const auto* act = static_cast<const uint8_t*>(a);
  for (int64_t t0 = 0; t0 < n_tokens; t0 += 4) {
    const uint8_t* at = act + static_cast<size_t>(t0) * a_stride;
    float* ot = out + static_cast<size_t>(t0) * out_stride;
    switch (std::min<int64_t>(4, n_tokens - t0)) {
      case 4: gemv_groups_for_tokens<Format, 4, kWideGroups>(n, w, n_groups, at, a_stride, ot, out_stride); break;
      case 3: gemv_groups_for_tokens<Format, 3, kWideGroups>(n, w, n_groups, at, a_stride, ot, out_stride); break;
      case 2: gemv_groups_for_tokens<Format, 2, 2>(n, w, n_groups, at, a_stride, ot, out_stride); break;
      default: gemv_interleaved_groups<Format>(n, groups, n_groups, at, ot); break;
    }
  }
}

// The eight 4-column groups of a 32-element activation block, each broadcast to all lanes.
struct ActivationGroups {
  __m256i g[8];
  explicit ActivationGroups(const int8_t* q) {
    for (int k = 0; k < 8; ++k) {
      int32_t v;
      std::memcpy(&v, q + 4 * k, 4);
      g[k] = _mm256_set1_epi32(v);
    }
  }
  __m256i group(int k) const { return g[k]; }
};

// The same groups broadcast from the block's quants where they are used (an operand of vpdpbusd
// itself with AVX-512), for kernels that cannot keep eight registers per activation block.
struct BroadcastGroups {
  const int8_t* q;
  __m256i group(int k) const {
    int32_t v;
    std::memcpy(&v, q + 4 * k, 4);
    return _mm256_set1_epi32(v);
  }
};

// 8 * sum(a) of a 32-element activation block (Q4_0's offset), in every lane.
template <class Isa>
inline __m256i eight_times_sum(const int8_t* q) {
  __m256i off = Isa::dot4(_mm256_setzero_si256(), _mm256_set1_epi8(8), load256(q));
  off = _mm256_add_epi32(off, _mm256_permute2x128_si256(off, off, 0x01));
  off = _mm256_add_epi32(off, _mm256_shuffle_epi32(off, 0x4e));
  return _mm256_add_epi32(off, _mm256_shuffle_epi32(off, 0xb1));
}

// Accumulator of a format without a per-block minimum term.
struct PlainSums {
  __m256 acc = _mm256_setzero_ps();
  __m256 result() const { return acc; }
};
}  // namespace

// Interleaved Q4_0 (8 rows, same 144 bytes per block column as the 8 rows' own blocks):
//   uint16  d[8]       the rows' fp16 scales
//   uint8   qs[4][8][4]  vector j, lane r: row r's bytes qs[4j..4j+3], whose low nibbles are its
//                        quants 4j..4j+3 and high nibbles its quants 16+4j..16+4j+3
// so a mask gives group j of all 8 rows and a shift group j + 4, with no shuffles at run time.
namespace {

constexpr size_t kQ40GroupBytes = kPanelRows * sizeof(BlockQ4_0);  // 144

// The 16 nibble bytes of 8 rows' blocks as 4 vectors of 8 words (vector j, lane r: row r's bytes
// 4j..4j+3): rows r and r + 4 share a vector, then a 4 x 4 transpose within each 128-bit lane.
inline void interleave_nibble_words(const uint8_t* const (&qs)[kPanelRows], uint8_t* out) {
  __m256i y[4];
  for (int r = 0; r < 4; ++r) y[r] = _mm256_setr_m128i(load128(qs[r]), load128(qs[r + 4]));
  const __m256i t0 = _mm256_unpacklo_epi32(y[0], y[1]), t1 = _mm256_unpackhi_epi32(y[0], y[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(y[2], y[3]), t3 = _mm256_unpackhi_epi32(y[2], y[3]);
  auto* v = reinterpret_cast<__m256i*>(out);
  _mm256_storeu_si256(v + 0, _mm256_unpacklo_epi64(t0, t2));
  _mm256_storeu_si256(v + 1, _mm256_unpackhi_epi64(t0, t2));
  _mm256_storeu_si256(v + 2, _mm256_unpacklo_epi64(t1, t3));
  _mm256_storeu_si256(v + 3, _mm256_unpackhi_epi64(t1, t3));
}

}  // namespace

namespace {

// Groups j and j + 4 of 8 interleaved rows, as unsigned quants 0..15.
inline void unpack_interleaved(const uint8_t* v, int j, __m256i& lo, __m256i& hi) {
  const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v) + j);
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  lo = _mm256_and_si256(q, low4);
  hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
}

// Row r's exact int32 sum of q * a over one block of 8 interleaved nibble rows (the layout above,
// quants 0..15 without their offset) in lane r: one vpmaddubsw per group of four columns against
// the activation group broadcast to all lanes (|pair| <= 2 * 15 * 128, so the eight groups add up
// in int16: <= 30720), or one vpdpbusd per group with VNNI (the policy's running sum). Two
// running sums, added at the end, halve the chain of dependent multiply-adds; integer sums, so the
// order does not change the total.
template <class Isa, class Groups>
inline __m256i interleaved_nibble_sums(const uint8_t* qs, const Groups& a) {
  __m256i s[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
  for (int j = 0; j < 4; ++j) {
    __m256i lo, hi;
    unpack_interleaved(qs, j, lo, hi);
    s[j & 1] = Isa::sum_dot2(s[j & 1], lo, a.group(j), hi, a.group(j + 4));
  }
  return Isa::lanes(Isa::sum_add(s[0], s[1]));
}

// Interleaved Q4_0 for gemv_interleaved_groups: the rows' sums of q * a, less 8 * sum(a) for all
// rows at once; float part as in every other Q4_0 kernel here.
template <class Isa>
struct Q4_0x8 {
  using Activation = BlockQ8_0;
  static constexpr int64_t kBlockElems = kQK;
  static constexpr size_t kGroupBytes = kQ40GroupBytes;
  using Sums = PlainSums;
  struct Prepared {
    ActivationGroups groups;
    __m256i offset;  // 8 * sum(a) in every lane
    __m256 d;
    explicit Prepared(const BlockQ8_0& a)
        : groups(a.qs), offset(eight_times_sum<Isa>(a.qs)), d(_mm256_set1_ps(half_to_float(a.d))) {}
  };
  // The multi-token GEMV's: the same values, the groups read from the block as they are used.
  struct TokenPrepared {
    const int8_t* qs = nullptr;
    int32_t offset = 0;
    float d = 0;
    TokenPrepared() = default;
    explicit TokenPrepared(const BlockQ8_0& a)
        : qs(a.qs), offset(_mm256_cvtsi256_si32(eight_times_sum<Isa>(a.qs))), d(half_to_float(a.d)) {}
  };
  static void block(const uint8_t* p, const Prepared& a, Sums& s) {
    const __m256i sums = _mm256_sub_epi32(interleaved_nibble_sums<Isa>(p + 16, a.groups), a.offset);
    s.acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(p)), a.d), _mm256_cvtepi32_ps(sums), s.acc);
  }
  static void block(const uint8_t* p, const TokenPrepared& a, Sums& s) {
    const __m256i sums = _mm256_sub_epi32(interleaved_nibble_sums<Isa>(p + 16, BroadcastGroups{a.qs}), _mm256_set1_epi32(a.offset));
    s.acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(p)), _mm256_set1_ps(a.d)), _mm256_cvtepi32_ps(sums), s.acc);
  }
};

}  // namespace

// ---- Q4_1 ----------------------------------------------------------------------------------------
// Interleaved Q4_1 (8 rows, the same 160 bytes per block column as the rows' own blocks):
//   uint16 d[8], m[8]      the rows' fp16 scales and minimums
//   uint8  qs[4][8][4]     as interleaved Q4_0
namespace {

constexpr size_t kQ41GroupBytes = kPanelRows * sizeof(BlockQ4_1);  // 160

// Interleaved Q4_1 for gemv_interleaved_groups.
template <class Isa>
struct Q4_1x8 {
  using Activation = BlockQ8_1;
  static constexpr int64_t kBlockElems = kQK;
  static constexpr size_t kGroupBytes = kQ41GroupBytes;
  using Sums = SumsWithMins;
  struct Prepared {
    ActivationGroups groups;
    __m256 d, s;
    explicit Prepared(const BlockQ8_1& a)
        : groups(a.qs), d(_mm256_set1_ps(half_to_float(a.d))), s(_mm256_set1_ps(half_to_float(a.s))) {}
  };
  struct TokenPrepared {
    const int8_t* qs = nullptr;
    float d = 0, s = 0;
    TokenPrepared() = default;
    explicit TokenPrepared(const BlockQ8_1& a) : qs(a.qs), d(half_to_float(a.d)), s(half_to_float(a.s)) {}
  };
  static void block(const uint8_t* p, const Prepared& a, Sums& s) {
    q4_1_block(_mm256_cvtph_ps(load128(p)), _mm256_cvtph_ps(load128(p + 16)), interleaved_nibble_sums<Isa>(p + 32, a.groups), a.d,
               a.s, s);
  }
  static void block(const uint8_t* p, const TokenPrepared& a, Sums& s) {
    q4_1_block(_mm256_cvtph_ps(load128(p)), _mm256_cvtph_ps(load128(p + 16)),
               interleaved_nibble_sums<Isa>(p + 32, BroadcastGroups{a.qs}), _mm256_set1_ps(a.d), _mm256_set1_ps(a.s), s);
  }
};

}  // namespace

// ---- Q8_0 ----------------------------------------------------------------------------------------
// Interleaved Q8_0 (8 rows, the same 272 bytes per block column as the rows' own blocks):
//   uint16 d[8]            the rows' fp16 scales
//   int8   q[8][8][4]      group g, lane r: row r's quants 4g..4g+3
// Its GEMV takes the sign of each activation onto the weights: vpmaddubsw(|a|, sign(w, a)) (or
// vpdpbusd) is exact when no weight is -128 (|a| <= 128, |w| <= 127: a pair is at most 32512),
// which pack_accepts_q8_0x8 checks once per matrix at load time; quantizers never write -128.
namespace {

constexpr size_t kQ80GroupBytes = kPanelRows * sizeof(BlockQ8_0);  // 272

// Interleaved Q8_0 for gemv_interleaved_groups: each activation group's sign moves onto the
// weights and its magnitude is the unsigned operand (see above).
template <class Isa>
struct Q8_0x8 {
  using Activation = BlockQ8_0;
  static constexpr int64_t kBlockElems = kQK;
  static constexpr size_t kGroupBytes = kQ80GroupBytes;
  using Sums = PlainSums;
  struct Prepared {
    ActivationGroups groups;
    __m256 d;
    explicit Prepared(const BlockQ8_0& a) : groups(a.qs), d(_mm256_set1_ps(half_to_float(a.d))) {}
  };
  static void block(const uint8_t* p, const Prepared& a, Sums& s) {
    const auto* wg = reinterpret_cast<const __m256i*>(p + 16);
    __m256i isum = _mm256_setzero_si256();
    for (int k = 0; k < 8; ++k) {
      const __m256i abs_a = _mm256_abs_epi8(a.groups.g[k]);  // -128 -> 128 (as u8)
      const __m256i signed_w = _mm256_sign_epi8(_mm256_loadu_si256(wg + k), a.groups.g[k]);
      isum = Isa::dot4(isum, abs_a, signed_w);
    }
    s.acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(p)), a.d), _mm256_cvtepi32_ps(isum), s.acc);
  }
};

}  // namespace

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

// Interleaved Q4_K for gemv_interleaved_groups. Per super-block: one vpmaddubsw per group gives
// all 8 rows' pair sums, vpmaddwd applies the sub-block scales, and the mins meet the
// activation's 16-element sums; float part as tile_k4 (acc = fma(d * d_a, isum, acc), mins +=
// (dmin * d_a) * msum; acc - mins).
struct Q4_Kx8 {
  using Activation = BlockQ8_K;
  static constexpr int64_t kBlockElems = kQK_K;
  static constexpr size_t kGroupBytes = kQ4KGroupBytes;
  struct Sums {
    __m256 acc = _mm256_setzero_ps(), mins = _mm256_setzero_ps();
    __m256 result() const { return _mm256_sub_ps(acc, mins); }
  };
  struct Prepared {
    const BlockQ8_K* y;
    __m256i bsum;  // the 32-element sums of the activation, pairs of 16-element bsums
    __m256 d;
    explicit Prepared(const BlockQ8_K& a)
        : y(&a), bsum(_mm256_broadcastsi128_si256(_mm_hadd_epi16(load128(a.bsums), load128(a.bsums + 8)))), d(_mm256_set1_ps(a.d)) {}
  };
  static void block(const uint8_t* p, const Prepared& a, Sums& s) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const auto bcast = [](const int8_t* q) { int32_t x; std::memcpy(&x, q, 4); return _mm256_set1_epi32(x); };
    const auto* v = reinterpret_cast<const __m256i*>(p + 160);
    __m256i isum = _mm256_setzero_si256();
    for (int c = 0; c < 4; ++c, v += 8) {
      const int8_t* a_lo = a.y->qs + 64 * c;
      const int8_t* a_hi = a_lo + 32;
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
    const uint8_t* m = p + 96;
    __m256i msum = _mm256_madd_epi16(byte_pairs(m, m + 8), _mm256_shuffle_epi32(a.bsum, 0x00));
    msum = _mm256_add_epi32(msum, _mm256_madd_epi16(byte_pairs(m + 16, m + 24), _mm256_shuffle_epi32(a.bsum, 0x55)));
    msum = _mm256_add_epi32(msum, _mm256_madd_epi16(byte_pairs(m + 32, m + 40), _mm256_shuffle_epi32(a.bsum, 0xaa)));
    msum = _mm256_add_epi32(msum, _mm256_madd_epi16(byte_pairs(m + 48, m + 56), _mm256_shuffle_epi32(a.bsum, 0xff)));
    s.acc = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(p)), a.d), _mm256_cvtepi32_ps(isum), s.acc);
    s.mins = _mm256_add_ps(s.mins, _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtph_ps(load128(p + 16)), a.d), _mm256_cvtepi32_ps(msum)));
  }
};

}  // namespace
}  // namespace ple::kernels
