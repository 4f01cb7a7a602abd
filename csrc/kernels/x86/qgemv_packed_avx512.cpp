// The packed-row GEMVs of qgemv_packed_x86.h built for AVX-512 F/BW/VL + VNNI
// (cmake/isa_sources.cmake: PLE_AVX512_FLAGS), instantiated with Avx512Vnni (policy_avx512.h).
#include "kernels/x86/x86_kernels.h"
#include "kernels/x86/qgemv_packed_x86.h"
#include "kernels/x86/policy_avx512.h"

namespace ple::kernels {

size_t packed_group_bytes_q4_0x8__avx512(int64_t n) { return packed_group_bytes_q4_0x8<Avx512Vnni>(n); }
void pack_q4_0x8__avx512(int64_t n, const void* w, size_t w_stride, void* out_group) {
  pack_q4_0x8<Avx512Vnni>(n, w, w_stride, out_group);
}
void qgemv_q4_0x8_q8_0__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  qgemv_q4_0x8_q8_0<Avx512Vnni>(n, groups, n_groups, a, out);
}
void qgemv_tokens_q4_0x8_q8_0__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens,
    float* out, size_t out_stride) {
  qgemv_tokens_q4_0x8_q8_0<Avx512Vnni>(n, groups, n_groups, a, a_stride, n_tokens, out, out_stride);
}
void pack_panel_from_q4_0x8__avx512(int64_t n, const void* group, size_t w_stride, void* panel) {
  pack_panel_from_q4_0x8<Avx512Vnni>(n, group, w_stride, panel);
}
size_t packed_group_bytes_q4_1x8__avx512(int64_t n) { return packed_group_bytes_q4_1x8<Avx512Vnni>(n); }
void pack_q4_1x8__avx512(int64_t n, const void* w, size_t w_stride, void* out_group) {
  pack_q4_1x8<Avx512Vnni>(n, w, w_stride, out_group);
}
void qgemv_q4_1x8_q8_1__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  qgemv_q4_1x8_q8_1<Avx512Vnni>(n, groups, n_groups, a, out);
}
void qgemv_tokens_q4_1x8_q8_1__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens,
    float* out, size_t out_stride) {
  qgemv_tokens_q4_1x8_q8_1<Avx512Vnni>(n, groups, n_groups, a, a_stride, n_tokens, out, out_stride);
}
void pack_panel_from_q4_1x8__avx512(int64_t n, const void* group, size_t w_stride, void* panel) {
  pack_panel_from_q4_1x8<Avx512Vnni>(n, group, w_stride, panel);
}
size_t packed_group_bytes_q8_0x8__avx512(int64_t n) { return packed_group_bytes_q8_0x8<Avx512Vnni>(n); }
bool pack_accepts_q8_0x8__avx512(int64_t n, const void* w, size_t w_stride, int64_t rows) {
  return pack_accepts_q8_0x8<Avx512Vnni>(n, w, w_stride, rows);
}
void pack_q8_0x8__avx512(int64_t n, const void* w, size_t w_stride, void* out_group) {
  pack_q8_0x8<Avx512Vnni>(n, w, w_stride, out_group);
}
void qgemv_q8_0x8_q8_0__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  qgemv_q8_0x8_q8_0<Avx512Vnni>(n, groups, n_groups, a, out);
}
void qgemv_tokens_q8_0x8_q8_0__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens,
    float* out, size_t out_stride) {
  qgemv_tokens_q8_0x8_q8_0<Avx512Vnni>(n, groups, n_groups, a, a_stride, n_tokens, out, out_stride);
}
void pack_panel_from_q8_0x8__avx512(int64_t n, const void* group, size_t w_stride, void* panel) {
  pack_panel_from_q8_0x8<Avx512Vnni>(n, group, w_stride, panel);
}
size_t packed_group_bytes_q4_kx8__avx512(int64_t n) { return packed_group_bytes_q4_kx8<Avx512Vnni>(n); }
void pack_q4_kx8__avx512(int64_t n, const void* w, size_t w_stride, void* out_group) {
  pack_q4_kx8<Avx512Vnni>(n, w, w_stride, out_group);
}
void qgemv_q4_kx8_q8_k__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  qgemv_q4_kx8_q8_k<Avx512Vnni>(n, groups, n_groups, a, out);
}
void qgemv_tokens_q4_kx8_q8_k__avx512(int64_t n, const void* groups, int64_t n_groups, const void* a, size_t a_stride, int64_t n_tokens,
    float* out, size_t out_stride) {
  qgemv_tokens_q4_kx8_q8_k<Avx512Vnni>(n, groups, n_groups, a, a_stride, n_tokens, out, out_stride);
}
void pack_panel_from_q4_kx8__avx512(int64_t n, const void* group, size_t w_stride, void* panel) {
  pack_panel_from_q4_kx8<Avx512Vnni>(n, group, w_stride, panel);
}

}  // namespace ple::kernels
