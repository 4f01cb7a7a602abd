// The scalar table: the __ref twins, the specification every SIMD table is tested against.
#include "kernels/table_builders.h"
#include "kernels/ref/ref_kernels.h"

namespace ple::kernels {

KernelTable make_scalar_table() {
  KernelTable t;
  t.isa = "scalar";
  weight_slot(t, G::F32).dequantize = dequantize_row_f32__ref;
  weight_slot(t, G::F16).dequantize = dequantize_row_f16__ref;
  weight_slot(t, G::BF16).dequantize = dequantize_row_bf16__ref;
  weight_slot(t, G::Q4_0).dequantize = dequantize_row_q4_0__ref;
  weight_slot(t, G::Q4_1).dequantize = dequantize_row_q4_1__ref;
  weight_slot(t, G::Q5_0).dequantize = dequantize_row_q5_0__ref;
  weight_slot(t, G::Q5_1).dequantize = dequantize_row_q5_1__ref;
  weight_slot(t, G::Q8_0).dequantize = dequantize_row_q8_0__ref;
  weight_slot(t, G::Q8_1).dequantize = dequantize_row_q8_1__ref;  // activation formats: dequantizable, not weights
  weight_slot(t, G::Q8_K).dequantize = dequantize_row_q8_k__ref;
  weight_slot(t, G::Q2_K).dequantize = dequantize_row_q2_k__ref;
  weight_slot(t, G::Q3_K).dequantize = dequantize_row_q3_k__ref;
  weight_slot(t, G::Q4_K).dequantize = dequantize_row_q4_k__ref;
  weight_slot(t, G::Q5_K).dequantize = dequantize_row_q5_k__ref;
  weight_slot(t, G::Q6_K).dequantize = dequantize_row_q6_k__ref;
  set_dot(t, G::F32, G::F32, PLE_KERNEL(qdot_f32_f32__ref));
  set_dot(t, G::F16, G::F32, PLE_KERNEL(qdot_f16_f32__ref));
  set_dot(t, G::BF16, G::F32, PLE_KERNEL(qdot_bf16_f32__ref));
  set_dot(t, G::Q4_0, G::Q8_0, PLE_KERNEL(qdot_q4_0_q8_0__ref));
  set_dot(t, G::Q5_0, G::Q8_0, PLE_KERNEL(qdot_q5_0_q8_0__ref));
  set_dot(t, G::Q8_0, G::Q8_0, PLE_KERNEL(qdot_q8_0_q8_0__ref));
  set_dot(t, G::Q4_1, G::Q8_1, PLE_KERNEL(qdot_q4_1_q8_1__ref));
  set_dot(t, G::Q5_1, G::Q8_1, PLE_KERNEL(qdot_q5_1_q8_1__ref));
  set_dot(t, G::Q2_K, G::Q8_K, PLE_KERNEL(qdot_q2_k_q8_k__ref));
  set_dot(t, G::Q3_K, G::Q8_K, PLE_KERNEL(qdot_q3_k_q8_k__ref));
  set_dot(t, G::Q4_K, G::Q8_K, PLE_KERNEL(qdot_q4_k_q8_k__ref));
  set_dot(t, G::Q5_K, G::Q8_K, PLE_KERNEL(qdot_q5_k_q8_k__ref));
  set_dot(t, G::Q6_K, G::Q8_K, PLE_KERNEL(qdot_q6_k_q8_k__ref));
  set_quantize(t, G::Q8_0, quantize_row_q8_0__ref);
  set_quantize(t, G::Q8_1, quantize_row_q8_1__ref);
  set_quantize(t, G::Q8_K, quantize_row_q8_k__ref);
  set_attention_f16(t, PLE_KERNEL(dot_f16_f32__ref), PLE_KERNEL(axpy_f16__ref));
  set_axpy_q8_0(t, PLE_KERNEL(axpy_q8_0__ref));
  set_activations(t, PLE_KERNEL(softmax__ref), PLE_KERNEL(silu_mul__ref));
  return t;
}

}  // namespace ple::kernels
