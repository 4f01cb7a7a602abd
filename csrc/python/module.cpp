#include "python/bindings.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "pyllama_edge native core";
  ple::python::register_errors(m);
  ple::python::register_gguf(m);
  ple::python::register_quant(m);
  ple::python::register_tokenizer(m);
  ple::python::register_model(m);
  ple::python::register_system(m);
  ple::python::register_io(m);
  ple::python::register_measure(m);
  ple::python::register_testing(m);
}
