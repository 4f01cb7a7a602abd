#include <cstdlib>
#include <cstring>

#include "kernels/kernel_table.h"
#include "kernels/ref/ref_kernels.h"

namespace ple::kernels {
namespace {

void set_weight(KernelTable& t, GGMLType type, DequantizeRowFn dequantize, DotFn dot,
                GGMLType activation, const char* dot_name) {
  WeightKernels& w = t.weights[static_cast<uint32_t>(type)];
  w.dequantize = dequantize;
  w.dot = dot;
  w.activation_type = activation;
  w.dot_name = dot_name;
}

// Weight quantizers for the model quantizer (offline; every table shares these).
void add_weight_quantizers(KernelTable& t) {
  using G = GGMLType;
#define PLE_QW(TYPE, type) t.quantize_weight[static_cast<uint32_t>(G::TYPE)] = quantize_weight_##type##__ref
  PLE_QW(Q4_0, q4_0);
  PLE_QW(Q4_1, q4_1);
  PLE_QW(Q5_0, q5_0);
  PLE_QW(Q5_1, q5_1);
  PLE_QW(Q8_0, q8_0);
  PLE_QW(Q2_K, q2_k);
  PLE_QW(Q3_K, q3_k);
  PLE_QW(Q4_K, q4_k);
  PLE_QW(Q5_K, q5_k);
  PLE_QW(Q6_K, q6_k);
#undef PLE_QW
}

KernelTable make_reference_table() {
  KernelTable t;
  t.isa = "scalar";
  using G = GGMLType;
#define PLE_REF(TYPE, type, act_upper, act)                                              \
  set_weight(t, G::TYPE, dequantize_row_##type##__ref, qdot_##type##_##act##__ref, G::act_upper, \
             "qdot_" #type "_" #act "__ref")
  PLE_REF(F32, f32, F32, f32);
  PLE_REF(F16, f16, F32, f32);
  PLE_REF(BF16, bf16, F32, f32);
  PLE_REF(Q4_0, q4_0, Q8_0, q8_0);
  PLE_REF(Q5_0, q5_0, Q8_0, q8_0);
  PLE_REF(Q8_0, q8_0, Q8_0, q8_0);
  PLE_REF(Q4_1, q4_1, Q8_1, q8_1);
  PLE_REF(Q5_1, q5_1, Q8_1, q8_1);
  PLE_REF(Q2_K, q2_k, Q8_K, q8_k);
  PLE_REF(Q3_K, q3_k, Q8_K, q8_k);
  PLE_REF(Q4_K, q4_k, Q8_K, q8_k);
  PLE_REF(Q5_K, q5_k, Q8_K, q8_k);
  PLE_REF(Q6_K, q6_k, Q8_K, q8_k);
#undef PLE_REF
  // Activation formats: dequantizable, not used as weights.
  t.weights[static_cast<uint32_t>(G::Q8_1)].dequantize = dequantize_row_q8_1__ref;
  t.weights[static_cast<uint32_t>(G::Q8_K)].dequantize = dequantize_row_q8_k__ref;
  t.quantize[static_cast<uint32_t>(G::Q8_0)] = quantize_row_q8_0__ref;
  t.quantize[static_cast<uint32_t>(G::Q8_1)] = quantize_row_q8_1__ref;
  t.quantize[static_cast<uint32_t>(G::Q8_K)] = quantize_row_q8_k__ref;
  add_weight_quantizers(t);
  return t;
}

}  // namespace

const KernelTable& reference_kernels() {
  static const KernelTable table = make_reference_table();
  return table;
}

const KernelTable& active_kernels() {
  // SIMD tables are added here per ISA (x86/, arm/); until then the reference is the best path.
  static const KernelTable& table = reference_kernels();
  return table;
}

}  // namespace ple::kernels
