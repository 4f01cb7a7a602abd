// pyllama_edge._core._testing: private hooks for kernel tests and benchmarks. They run the real
// matmul driver (ops::matmul, the one the model runs) on a named kernel table, optionally with
// some of its slots cleared so that one kind of kernel is exercised, and optionally on rows packed
// by the table's load-time layout (weights/packed_weights.h). Not public API.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/kernel_table.h"
#include "ops/ops.h"
#include "python/bindings.h"
#include "weights/packed_weights.h"
#include "weights/weight_matrix.h"

namespace py = pybind11;

namespace ple::python {
namespace {

// y = W x through ops::matmul for one weight matrix, set up once (table, packing, pool) so that
// benchmarks time only the product.
class TestMatmul {
 public:
  // w: uint8 [rows, row bytes] of `type_name`; kernels: "all" (the table as it is), "dot" (no
  // tile, panel or packed layout), "tile" (tiles and dots only) or "panel" (panel and dots only);
  // packed: the rows also in the table's packed layout (whole groups; the rest stay plain).
  TestMatmul(const py::array_t<uint8_t, py::array::c_style>& w, const std::string& type_name,
             const std::optional<std::string>& isa, const std::string& kernels, bool packed, int n_threads)
      : table_(kernels::kernel_table_named(isa.value_or(""))), pool_(n_threads) {
    if (!ggml_type_from_name(type_name, &type_)) throw InvalidArgument("unknown tensor type '" + type_name + "'");
    const GGMLTypeInfo& info = ggml_type_info(type_);
    kernels::WeightKernels& wk = table_.weights[static_cast<uint32_t>(type_)];
    if (wk.dot == nullptr) throw UnsupportedError(std::string("no dot product for weight type ") + info.name);
    if (w.ndim() != 2) throw InvalidArgument("weights must be a 2-D uint8 array, one row of blocks per row");
    rows_ = static_cast<int64_t>(w.shape(0));
    const auto row_bytes = static_cast<size_t>(w.shape(1));
    if (row_bytes == 0 || row_bytes % info.type_size != 0) {
      throw InvalidArgument("weight rows of " + std::to_string(row_bytes) + " bytes are not whole " + info.name + " blocks");
    }
    cols_ = static_cast<int64_t>(row_bytes / info.type_size) * info.block_size;
    // Kernels read blocks through uint16_t/float fields: an owned (aligned) copy.
    weights_.assign(w.data(), w.data() + w.size());
    matrix_.view = MatrixView{weights_.data(), type_, cols_, rows_, row_bytes};
    const std::string where = std::string(" for ") + info.name + " on " + table_.isa;
    const bool keep_tile = kernels == "all" || kernels == "tile", keep_panel = kernels == "all" || kernels == "panel";
    if (kernels != "all" && kernels != "dot" && kernels != "tile" && kernels != "panel") {
      throw InvalidArgument("kernels must be 'all', 'dot', 'tile' or 'panel', not '" + kernels + "'");
    }
    if (kernels == "tile" && wk.decode_tile.fn == nullptr && wk.prefill_tile.fn == nullptr) throw InvalidArgument("no tile" + where);
    if (kernels == "panel" && wk.prefill_panel.gemm == nullptr) throw InvalidArgument("no prefill panel" + where);
    if (!keep_tile) wk.decode_tile = wk.prefill_tile = kernels::TileKernel{};
    if (!keep_panel) wk.prefill_panel = kernels::PanelKernel{};
    if (packed) {
      const kernels::PackedKernels& pk = wk.packed;
      if (pk.pack == nullptr) throw InvalidArgument("no packed layout" + where);
      const int64_t groups = rows_ / pk.rows;
      if (groups == 0) throw InvalidArgument("fewer rows than one packed group (" + std::to_string(pk.rows) + ")");
      if (pk.accepts != nullptr && !pk.accepts(cols_, weights_.data(), row_bytes, groups * pk.rows)) {
        throw InvalidArgument(std::string("the rows cannot take the packed layout (") + pk.name + ")");
      }
      const size_t group_bytes = pk.group_bytes(cols_);
      groups_.resize(static_cast<size_t>(groups) * group_bytes);
      pack_rows(pk, cols_, weights_.data(), row_bytes, groups, groups_.data());
      matrix_.packed = PackedRows{&pk, groups_.data(), groups * pk.rows, group_bytes};
    }
    if (kernels == "dot" || kernels == "tile" || kernels == "panel") wk.packed = kernels::PackedKernels{};
  }

  // x: float32 [tokens, cols] -> y: float32 [tokens, rows], the GIL released.
  py::array_t<float> run(const py::array_t<float, py::array::c_style | py::array::forcecast>& x) {
    if (x.ndim() != 2 || x.shape(1) != cols_) {
      throw InvalidArgument("activations must be float32 [tokens, " + std::to_string(cols_) + "]");
    }
    const auto tokens = static_cast<int64_t>(x.shape(0));
    py::array_t<float> y({static_cast<py::ssize_t>(tokens), static_cast<py::ssize_t>(rows_)});
    float* out = y.mutable_data();
    const float* in = x.data();
    {
      py::gil_scoped_release release;
      const ops::Context ctx{table_, pool_, matmul_scratch_, attention_scratch_};
      ops::matmul(ctx, matrix_, in, tokens, out);
    }
    return y;
  }

  int64_t packed_rows() const { return matrix_.packed.rows; }
  std::string isa() const { return table_.isa; }

 private:
  kernels::KernelTable table_;  // a copy: slots may be cleared
  GGMLType type_ = GGMLType::F32;
  int64_t rows_ = 0, cols_ = 0;
  std::vector<uint8_t> weights_, groups_;
  WeightMatrix matrix_;
  ThreadPool pool_;
  ops::MatmulScratch matmul_scratch_;
  ops::AttentionScratch attention_scratch_;
};

}  // namespace

void register_testing(py::module_& m) {
  py::module_ t = m.def_submodule("_testing", "Private hooks for kernel tests and benchmarks (not public API).");
  py::class_<TestMatmul>(t, "Matmul")
      .def(py::init<const py::array_t<uint8_t, py::array::c_style>&, const std::string&, const std::optional<std::string>&,
                    const std::string&, bool, int>(),
           py::arg("w"), py::arg("type_name"), py::arg("isa") = py::none(), py::arg("kernels") = "all",
           py::arg("packed") = false, py::arg("n_threads") = 1)
      .def("run", &TestMatmul::run, py::arg("x"))
      .def_property_readonly("packed_rows", &TestMatmul::packed_rows)
      .def_property_readonly("isa", &TestMatmul::isa);
}

}  // namespace ple::python
