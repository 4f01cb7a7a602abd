// The only headers that include pybind11. module.cpp wires one register_* function per area.
#pragma once
#include <pybind11/pybind11.h>

#include <memory>

namespace ple {
class GGUFFile;
}

namespace ple::python {

void register_errors(pybind11::module_& m);
void register_gguf(pybind11::module_& m);
void register_quant(pybind11::module_& m);
void register_tokenizer(pybind11::module_& m);

// The file behind a _core.GGUFReader (TypeError for other objects, ValueError when closed).
std::shared_ptr<GGUFFile> gguf_file_of(pybind11::handle reader);

}  // namespace ple::python
