// Reference weight quantizers: every weight type has one in the reference table, and a quantize ->
// dequantize round trip stays within a per-type bound on the relative RMS error, over Gaussian
// data at many scales, constant blocks, zeros and rows with outliers. Also checks that the
// quantizer never writes past its n / block_size blocks.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "kernels/kernel_table.h"
#include "quant/ggml_types.h"
#include "quant/weight_quantizer.h"

using namespace ple;

namespace {

struct Bound {
  GGMLType type;
  double rel_rmse;  // RMS(error) / RMS(x) for Gaussian rows
};
// About 1.15x what the quantizers reach on N(0, 1) rows.
const Bound kBounds[] = {{GGMLType::Q4_0, 0.10}, {GGMLType::Q4_1, 0.09}, {GGMLType::Q5_0, 0.05},
                         {GGMLType::Q5_1, 0.045}, {GGMLType::Q8_0, 0.007}, {GGMLType::Q2_K, 0.33},
                         {GGMLType::Q3_K, 0.18}, {GGMLType::Q4_K, 0.085}, {GGMLType::Q5_K, 0.043},
                         {GGMLType::Q6_K, 0.021}};

double rel_rmse(const std::vector<float>& x, const std::vector<float>& y) {
  double se = 0, ss = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    se += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
    ss += double(x[i]) * x[i];
  }
  return ss > 0 ? std::sqrt(se / ss) : std::sqrt(se);
}

std::vector<float> round_trip(GGMLType type, const std::vector<float>& x) {
  const auto& k = kernels::reference_kernels();
  const GGMLTypeInfo& info = ggml_type_info(type);
  const size_t nbytes = x.size() / info.block_size * info.type_size;
  std::vector<uint8_t> blocks(nbytes + 64, 0xAB);  // guard bytes after the blocks
  weight_quantizer(type)(x.data(), blocks.data(), static_cast<int64_t>(x.size()));
  for (size_t i = nbytes; i < blocks.size(); ++i) CHECK_MSG(blocks[i] == 0xAB, std::string("overrun: ") + info.name);
  std::vector<float> y(x.size());
  k.for_type(type).dequantize(blocks.data(), y.data(), static_cast<int64_t>(x.size()));
  return y;
}

}  // namespace

TEST(weight_quantizers_round_trip_gaussian) {
  std::mt19937 gen(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (const Bound& b : kBounds) {
    CHECK_MSG(weight_quantizer(b.type) != nullptr, ggml_type_name(b.type));
    for (int scale_exp : {-12, -4, 0, 6}) {
      std::vector<float> x(256 * 8);
      for (float& v : x) v = std::ldexp(normal(gen), scale_exp);
      const double r = rel_rmse(x, round_trip(b.type, x));
      CHECK_MSG(r < b.rel_rmse, std::string(ggml_type_name(b.type)) + " rel rmse " + std::to_string(r));
    }
  }
}

TEST(weight_quantizers_special_rows) {
  for (const Bound& b : kBounds) {
    const std::string name = ggml_type_name(b.type);
    std::vector<float> zeros(512, 0.0f);
    for (float v : round_trip(b.type, zeros)) CHECK_MSG(v == 0.0f, name + " zeros");
    // constant rows (positive and negative): symmetric types reach the value exactly up to fp16
    for (float c : {0.37f, -2.5f}) {
      std::vector<float> x(512, c);
      const auto y = round_trip(b.type, x);
      for (float v : y) CHECK_MSG(std::isfinite(v) && std::fabs(v - c) <= 0.02f * std::fabs(c), name + " constant");
    }
    // one outlier per super-block: finite, and the outlier itself is kept within 10%
    std::mt19937 gen(3);
    std::normal_distribution<float> normal(0.0f, 0.01f);
    std::vector<float> x(1024);
    for (float& v : x) v = normal(gen);
    for (size_t i = 17; i < x.size(); i += 256) x[i] = 1.0f;
    const auto y = round_trip(b.type, x);
    for (size_t i = 0; i < y.size(); ++i) CHECK_MSG(std::isfinite(y[i]), name + " finite");
    for (size_t i = 17; i < x.size(); i += 256) CHECK_MSG(std::fabs(y[i] - 1.0f) < 0.1f, name + " outlier " + std::to_string(y[i]));
  }
}
