// Scalar reference kernels (the "__ref" twins). Names: dequantize_row_<type>__ref,
// quantize_row_<type>__ref, qdot_<weight>_<activation>__ref. n counts elements.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ple::kernels {

void dequantize_row_f32__ref(const void* x, float* y, int64_t n);
void dequantize_row_f16__ref(const void* x, float* y, int64_t n);
void dequantize_row_bf16__ref(const void* x, float* y, int64_t n);
void dequantize_row_q4_0__ref(const void* x, float* y, int64_t n);
void dequantize_row_q4_1__ref(const void* x, float* y, int64_t n);
void dequantize_row_q5_0__ref(const void* x, float* y, int64_t n);
void dequantize_row_q5_1__ref(const void* x, float* y, int64_t n);
void dequantize_row_q8_0__ref(const void* x, float* y, int64_t n);
void dequantize_row_q8_1__ref(const void* x, float* y, int64_t n);
void dequantize_row_q2_k__ref(const void* x, float* y, int64_t n);
void dequantize_row_q3_k__ref(const void* x, float* y, int64_t n);
void dequantize_row_q4_k__ref(const void* x, float* y, int64_t n);
void dequantize_row_q5_k__ref(const void* x, float* y, int64_t n);
void dequantize_row_q6_k__ref(const void* x, float* y, int64_t n);
void dequantize_row_q8_k__ref(const void* x, float* y, int64_t n);

void quantize_row_q8_0__ref(const float* x, void* y, int64_t n);
void quantize_row_q8_1__ref(const float* x, void* y, int64_t n);
void quantize_row_q8_k__ref(const float* x, void* y, int64_t n);

float qdot_f32_f32__ref(int64_t n, const void* w, const void* a);
float qdot_f16_f32__ref(int64_t n, const void* w, const void* a);
float qdot_bf16_f32__ref(int64_t n, const void* w, const void* a);
float qdot_q4_0_q8_0__ref(int64_t n, const void* w, const void* a);
float qdot_q5_0_q8_0__ref(int64_t n, const void* w, const void* a);
float qdot_q8_0_q8_0__ref(int64_t n, const void* w, const void* a);
float qdot_q4_1_q8_1__ref(int64_t n, const void* w, const void* a);
float qdot_q5_1_q8_1__ref(int64_t n, const void* w, const void* a);
float qdot_q2_k_q8_k__ref(int64_t n, const void* w, const void* a);
float qdot_q3_k_q8_k__ref(int64_t n, const void* w, const void* a);
float qdot_q4_k_q8_k__ref(int64_t n, const void* w, const void* a);
float qdot_q5_k_q8_k__ref(int64_t n, const void* w, const void* a);
float qdot_q6_k_q8_k__ref(int64_t n, const void* w, const void* a);

// 2x2 prefill tiles (DotTileFn, 2 rows x 2 tokens): the four dots, out[2 * r + t] = qdot(w_r, a_t).
void qtile_q4_0_q8_0_2x2__ref(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float out[4]);
void qtile_q8_0_q8_0_2x2__ref(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float out[4]);

// Attention over the F16 KV cache: the dot accumulates in double (as qdot_f16_f32__ref), the
// axpy computes y[i] + a * x[i] in float32 with two roundings (no fused multiply-add).
float dot_f16_f32__ref(int64_t n, const uint16_t* x, const float* y);
void axpy_f16__ref(int64_t n, float a, const uint16_t* x, float* y);
// Q8_0 KV cache: per block, y[i] + (a * d) * q[i], two roundings per element after the scale.
void axpy_q8_0__ref(int64_t n, float a, const void* x, float* y);

// Activations with std::exp: softmax subtracts the maximum and sums in double; silu_mul computes
// g / (1 + exp(-g)) * up in that order.
void softmax__ref(float* x, int64_t n);
void silu_mul__ref(float* gate, const float* up, int64_t n);

}  // namespace ple::kernels
