#include "python/py_args.h"

namespace ple::python {
namespace {

std::string type_name(py::handle value) { return py::str(py::type::handle_of(value).attr("__name__")); }

bool is_integer(py::handle value) {
  return !PyBool_Check(value.ptr()) && PyIndex_Check(value.ptr()) && !PyFloat_Check(value.ptr());
}

[[noreturn]] void type_error(const std::string& message) { throw py::type_error(message); }
[[noreturn]] void value_error(const std::string& message) { throw py::value_error(message); }

// The int as a Python object (numpy integers included), for range checks without overflow.
py::int_ as_int(py::handle value, const char* name) {
  if (!is_integer(value)) type_error(std::string(name) + " must be an int, got " + type_name(value));
  return py::reinterpret_steal<py::int_>(PyNumber_Index(value.ptr()));
}

}  // namespace

int64_t int_arg(py::handle value, const char* name, int64_t lo, int64_t hi) {
  const py::int_ v = as_int(value, name);
  int overflow = 0;
  const long long x = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
  if (overflow != 0 || x < lo || x > hi) {
    value_error(std::string(name) + " must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
                std::string(py::str(v)));
  }
  return x;
}

uint64_t uint64_arg(py::handle value, const char* name) {
  const py::int_ v = as_int(value, name);
  const unsigned long long x = PyLong_AsUnsignedLongLong(v.ptr());
  if (PyErr_Occurred()) {
    PyErr_Clear();
    value_error(std::string(name) + " must be between 0 and " + std::to_string(UINT64_MAX) + ", got " + std::string(py::str(v)));
  }
  return x;
}

float float_arg(py::handle value, const char* name) {
  if (PyBool_Check(value.ptr()) || !(PyFloat_Check(value.ptr()) || PyIndex_Check(value.ptr()) ||
                                     py::isinstance(value, py::module_::import("numbers").attr("Real")))) {
    type_error(std::string(name) + " must be a number, got " + type_name(value));
  }
  const double x = PyFloat_AsDouble(value.ptr());
  if (PyErr_Occurred()) {  // an int beyond the double range
    PyErr_Clear();
    value_error(std::string(name) + " is out of range, got " + std::string(py::str(value)));
  }
  return static_cast<float>(x);
}

std::vector<int32_t> token_ids_arg(py::handle ids, const char* what) {
  if (PyUnicode_Check(ids.ptr()) || PyBytes_Check(ids.ptr()) || PyByteArray_Check(ids.ptr()) || PyMemoryView_Check(ids.ptr())) {
    type_error(std::string(what) + " must be a sequence of ints, got " + type_name(ids));
  }
  if (!PySequence_Check(ids.ptr())) type_error(std::string(what) + " must be a sequence of ints, got " + type_name(ids));
  const py::sequence seq = py::reinterpret_borrow<py::sequence>(ids);
  std::vector<int32_t> out;
  out.reserve(seq.size());
  size_t index = 0;
  for (py::handle item : seq) {
    if (!is_integer(item)) type_error("token id at index " + std::to_string(index) + " must be an int, got " + type_name(item));
    const py::int_ v = py::reinterpret_steal<py::int_>(PyNumber_Index(item.ptr()));
    int overflow = 0;
    const long long x = PyLong_AsLongLongAndOverflow(v.ptr(), &overflow);
    if (overflow != 0 || x < INT32_MIN || x > INT32_MAX) {
      value_error("token id " + std::string(py::str(v)) + " at index " + std::to_string(index) + " is out of range");
    }
    out.push_back(static_cast<int32_t>(x));
    ++index;
  }
  return out;
}

std::vector<std::string> stop_arg(py::handle stop) {
  std::vector<std::string> out;
  if (stop.is_none()) return out;
  if (PyBytes_Check(stop.ptr()) || PyByteArray_Check(stop.ptr()) || PyMemoryView_Check(stop.ptr()) ||
      !(PyUnicode_Check(stop.ptr()) || PySequence_Check(stop.ptr()))) {
    type_error("stop must be a str or a list of str, got " + type_name(stop));
  }
  const auto add = [&](py::handle s) {
    if (!PyUnicode_Check(s.ptr())) type_error("stop must be a str or a list of str, got an item of type " + type_name(s));
    try {
      out.push_back(py::reinterpret_borrow<py::str>(s).attr("encode")("utf-8").cast<std::string>());
    } catch (py::error_already_set& e) {  // a lone surrogate can never occur in generated text
      if (!e.matches(PyExc_UnicodeEncodeError)) throw;
      value_error("stop string " + std::string(py::repr(s)) + " is not valid Unicode text: " +
                  std::string(py::str(e.value().attr("reason"))) + " at index " + std::string(py::str(e.value().attr("start"))));
    }
  };
  if (PyUnicode_Check(stop.ptr())) {
    add(stop);
  } else {
    for (py::handle s : py::reinterpret_borrow<py::sequence>(stop)) add(s);
  }
  return out;
}

}  // namespace ple::python
