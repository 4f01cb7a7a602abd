// The only headers that include pybind11. module.cpp wires one register_* function per area.
#pragma once
#include <pybind11/pybind11.h>

namespace ple::python {

void register_errors(pybind11::module_& m);
void register_gguf(pybind11::module_& m);
void register_quant(pybind11::module_& m);
void register_tokenizer(pybind11::module_& m);
void register_model(pybind11::module_& m);
void register_system(pybind11::module_& m);
void register_io(pybind11::module_& m);
void register_measure(pybind11::module_& m);
void register_testing(pybind11::module_& m);  // _core._testing: private kernel test hooks

}  // namespace ple::python
