// Typed errors of the core. The Python layer maps each to one Python exception, in one place
// (csrc/python/errors.cpp); nothing below csrc/python knows about Python.
#pragma once
#include <stdexcept>
#include <string>

namespace ple {

// Base of everything the core throws on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file that is not valid GGUF, or whose contents contradict themselves (-> GGUFError).
class FormatError : public Error {
 public:
  using Error::Error;
};

// A valid file using something this build does not implement (-> UnsupportedModelError).
class UnsupportedError : public Error {
 public:
  using Error::Error;
};

// A path that cannot be opened; errno_value is kept so Python raises the matching OSError.
class IoError : public Error {
 public:
  IoError(const std::string& message, int errno_value) : Error(message), errno_value_(errno_value) {}
  int errno_value() const { return errno_value_; }

 private:
  int errno_value_;
};

// Caller passed an argument out of range (-> ValueError).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// More tokens than the KV cache holds (-> ContextOverflowError, a ValueError).
class ContextOverflowError : public Error {
 public:
  using Error::Error;
};

// A request that cannot fit the machine's available memory, refused up front instead of being
// OOM-killed later (-> MemoryError).
class ResourceError : public Error {
 public:
  using Error::Error;
};

// A Session used from two threads at once (-> RuntimeError).
class ConcurrentUseError : public Error {
 public:
  using Error::Error;
};

}  // namespace ple
