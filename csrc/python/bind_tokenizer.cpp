// Tokenizer bindings: encode/decode with the GIL released, a streaming detokenizer. Decoded text
// that is not valid UTF-8 becomes U+FFFD (Python's "replace"); *_bytes variants give raw bytes.
#include <pybind11/stl.h>

#include "io/gguf.h"
#include "python/bindings.h"
#include "python/py_args.h"
#include "python/py_gguf.h"
#include "tokenizer/tokenizer.h"

namespace py = pybind11;

namespace ple::python {
namespace {

py::str utf8_replace(const std::string& s) {
  PyObject* obj = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
  if (obj == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(obj);
}

// Vocabulary strings are normally UTF-8; hand over bytes rather than guess when one is not.
py::object text_or_bytes(const std::string& s) {
  PyObject* obj = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "strict");
  if (obj != nullptr) return py::reinterpret_steal<py::object>(obj);
  PyErr_Clear();
  return py::bytes(s);
}

std::string decode_released(const Tokenizer& t, const std::vector<int32_t>& ids, bool special) {
  py::gil_scoped_release release;
  return t.decode(ids, special);
}

}  // namespace

void register_tokenizer(py::module_& m) {
  // Held by shared_ptr: generators (bind_model.cpp) keep the tokenizer they detokenize with alive.
  py::class_<Tokenizer, std::shared_ptr<Tokenizer>>(m, "Tokenizer")
      .def(py::init([](const PyGGUFReader& reader) {
             std::shared_ptr<GGUFFile> file = reader.shared();
             py::gil_scoped_release release;  // building the merge table of a large vocabulary
             return std::make_shared<Tokenizer>(*file);
           }),
           py::arg("reader"))
      .def(
          "encode",
          [](const Tokenizer& t, std::string_view text, bool add_bos, bool special,
             const std::vector<std::pair<size_t, size_t>>& literal) {
            std::vector<ByteRange> ranges;
            ranges.reserve(literal.size());
            for (const auto& [begin, end] : literal) ranges.push_back({begin, end});
            std::vector<int32_t> ids;
            {
              py::gil_scoped_release release;
              ids = t.encode(text, add_bos, special, ranges);
            }
            return ids;
          },
          py::arg("text"), py::arg("add_bos") = true, py::arg("special") = false,
          py::arg("literal") = std::vector<std::pair<size_t, size_t>>{})
      .def(
          "control_token_spans",
          [](const Tokenizer& t, std::string_view text) {
            std::vector<std::pair<size_t, size_t>> out;
            for (const ByteRange& r : t.control_token_spans(text)) out.emplace_back(r.begin, r.end);
            return out;
          },
          py::arg("text"))
      .def(
          "decode", [](const Tokenizer& t, py::handle ids, bool special) { return utf8_replace(decode_released(t, token_ids_arg(ids), special)); },
          py::arg("ids"), py::arg("special") = false)
      .def(
          "decode_bytes", [](const Tokenizer& t, py::handle ids, bool special) { return py::bytes(decode_released(t, token_ids_arg(ids), special)); },
          py::arg("ids"), py::arg("special") = false)
      .def(
          "token_piece", [](const Tokenizer& t, int32_t id, bool special) { return py::bytes(t.token_piece(id, special)); },
          py::arg("id"), py::arg("special") = false)
      .def("token_text", [](const Tokenizer& t, int32_t id) { return text_or_bytes(t.token_text(id)); }, py::arg("id"))
      .def("is_eog", &Tokenizer::is_eog, py::arg("id"))
      .def("is_control", &Tokenizer::is_control, py::arg("id"))
      .def_property_readonly("n_vocab", &Tokenizer::n_vocab)
      .def_property_readonly("bos_id", &Tokenizer::bos_id)
      .def_property_readonly("eos_id", &Tokenizer::eos_id)
      .def_property_readonly("eot_id", &Tokenizer::eot_id)
      .def_property_readonly("eom_id", &Tokenizer::eom_id)
      .def_property_readonly("add_bos", &Tokenizer::add_bos);

  py::class_<StreamingDetokenizer>(m, "StreamingDetokenizer")
      .def(py::init<const Tokenizer&, bool>(), py::arg("tokenizer"), py::arg("special") = false,
           py::keep_alive<1, 2>())
      .def("push", [](StreamingDetokenizer& d, int32_t id) { return utf8_replace(d.push(id)); }, py::arg("id"))
      .def("flush", [](StreamingDetokenizer& d) { return utf8_replace(d.flush()); });
}

}  // namespace ple::python
