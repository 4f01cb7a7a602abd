// Python values -> the core's argument types, with the errors a Python caller expects: TypeError
// for a wrong type, ValueError naming the parameter for a value its C++ type cannot hold. Range
// checks against the model (vocabulary, context) stay in the core, in one place each.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ple::python {

namespace py = pybind11;

// An int (not a bool) in [lo, hi].
int64_t int_arg(py::handle value, const char* name, int64_t lo, int64_t hi);
uint64_t uint64_arg(py::handle value, const char* name);
// A real number (int or float, not a bool) as a float.
float float_arg(py::handle value, const char* name);
// Token ids from a sequence of ints (a list, tuple, numpy array); bytes-like and str are refused
// (they would read as ids). Ids beyond int32 raise ValueError "... out of range".
std::vector<int32_t> token_ids_arg(py::handle ids, const char* what = "token ids");
// None, a str or a sequence of str; each must encode to UTF-8.
std::vector<std::string> stop_arg(py::handle stop);

}  // namespace ple::python
