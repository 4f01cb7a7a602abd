// Packed-row layouts (load time) and their decode GEMVs for plain NEON (armv8-a: Pi 4's
// Cortex-A72): widening multiplies against broadcast activation words (qgemv_packed_arm.h). The
// packing and the panel built from a group do not depend on the tier: the dotprod table keeps
// these and replaces only the GEMVs.
#include "kernels/arm/arm_kernels.h"
#include "kernels/arm/qgemv_packed_arm.h"
#include "kernels/arm/qpanel_arm.h"
#include "kernels/arm/qpanel_kquants_arm.h"

namespace ple::kernels {

size_t packed_group_bytes_q4_0x8__neon(int64_t n) { return static_cast<size_t>(n / kQK) * kQ40GroupBytes; }
void pack_q4_0x8__neon(int64_t n, const void* w, size_t w_stride, void* out_group) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    pack_nibble_block<BlockQ4_0, false>(static_cast<const uint8_t*>(w), w_stride, b, static_cast<uint8_t*>(out_group) + b * kQ40GroupBytes);
  }
}
void qgemv_q4_0x8_q8_0__neon(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_groups<Q4_0x8<false>>(n, groups, n_groups, a, out);
}
void pack_panel_from_q4_0x8__neon(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  pack_panel_from_nibble_group<false>(n, group, panel);
}

size_t packed_group_bytes_q4_1x8__neon(int64_t n) { return static_cast<size_t>(n / kQK) * kQ41GroupBytes; }
void pack_q4_1x8__neon(int64_t n, const void* w, size_t w_stride, void* out_group) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    pack_nibble_block<BlockQ4_1, true>(static_cast<const uint8_t*>(w), w_stride, b, static_cast<uint8_t*>(out_group) + b * kQ41GroupBytes);
  }
}
void qgemv_q4_1x8_q8_1__neon(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_groups<Q4_1x8<false>>(n, groups, n_groups, a, out);
}
void pack_panel_from_q4_1x8__neon(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  pack_panel_from_nibble_group<true>(n, group, panel);
}

size_t packed_group_bytes_q8_0x8__neon(int64_t n) { return static_cast<size_t>(n / kQK) * kQ80GroupBytes; }
void pack_q8_0x8__neon(int64_t n, const void* w, size_t w_stride, void* out_group) {
  for (int64_t b = 0; b < n / kQK; ++b) {
    pack_q8_0_block(static_cast<const uint8_t*>(w), w_stride, b, static_cast<uint8_t*>(out_group) + b * kQ80GroupBytes);
  }
}
void qgemv_q8_0x8_q8_0__neon(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_groups<Q8_0x8<false>>(n, groups, n_groups, a, out);
}
void pack_panel_from_q8_0x8__neon(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  pack_panel_from_q8_0_group(n, group, panel);
}

size_t packed_group_bytes_q4_kx8__neon(int64_t n) { return static_cast<size_t>(n / kQK_K) * kQ4KGroupBytes; }
void pack_q4_kx8__neon(int64_t n, const void* w, size_t w_stride, void* out_group) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    pack_q4_k_block(static_cast<const uint8_t*>(w), w_stride, b, static_cast<uint8_t*>(out_group) + b * kQ4KGroupBytes);
  }
}
void qgemv_q4_kx8_q8_k__neon(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_groups<Q4_Kx8<false>>(n, groups, n_groups, a, out);
}
void pack_panel_from_q4_kx8__neon(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  expand_k_group<kQ4KGroupBytes, kQ4KPanelBytes, expand_q4_k_block>(n, group, panel);
}
size_t packed_group_bytes_q5_kx8__neon(int64_t n) { return static_cast<size_t>(n / kQK_K) * kQ5KGroupBytes; }
void pack_q5_kx8__neon(int64_t n, const void* w, size_t w_stride, void* out_group) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    pack_q5_k_block(static_cast<const uint8_t*>(w), w_stride, b, static_cast<uint8_t*>(out_group) + b * kQ5KGroupBytes);
  }
}
void qgemv_q5_kx8_q8_k__neon(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_groups<Q5_Kx8<false>>(n, groups, n_groups, a, out);
}
void pack_panel_from_q5_kx8__neon(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  expand_k_group<kQ5KGroupBytes, kQ4KPanelBytes, expand_q5_k_block>(n, group, panel);
}

size_t packed_group_bytes_q6_kx8__neon(int64_t n) { return static_cast<size_t>(n / kQK_K) * kQ6KGroupBytes; }
void pack_q6_kx8__neon(int64_t n, const void* w, size_t w_stride, void* out_group) {
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    pack_q6_k_block(static_cast<const uint8_t*>(w), w_stride, b, static_cast<uint8_t*>(out_group) + b * kQ6KGroupBytes);
  }
}
void qgemv_q6_kx8_q8_k__neon(int64_t n, const void* groups, int64_t n_groups, const void* a, float* out) {
  gemv_groups<Q6_Kx8<false>>(n, groups, n_groups, a, out);
}
void pack_panel_from_q6_kx8__neon(int64_t n, const void* group, size_t /*w_stride*/, void* panel) {
  expand_k_group<kQ6KGroupBytes, kQ6KPanelBytes, expand_q6_k_block>(n, group, panel);
}
}  // namespace ple::kernels
