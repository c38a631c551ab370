// Errors every layer agrees on. Kernels and the runtime throw dynasparse::Error;
// the binding turns it into a JavaScript DynasparseError with the same code.
#pragma once

#include <stdexcept>
#include <string>

namespace dynasparse {

enum class ErrorCode {
  Arg,       // E_ARG: a value of the wrong type or out of range
  Shape,     // E_SHAPE: shapes that do not fit together
  Device,    // E_DEVICE: a device that is unavailable or mismatched
  Disposed,  // E_DISPOSED: a handle used after dispose()
  Format,    // E_FORMAT: malformed sparse structure or file contents
  Oom,       // E_OOM: an allocation that could not be satisfied
  Cuda,      // E_CUDA: a CUDA runtime or kernel failure
  Io,        // E_IO: a file that could not be read or written
};

// The stable string a user's code compares against ("E_ARG", ...).
const char* error_code_name(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

[[noreturn]] inline void fail(ErrorCode code, const std::string& message) { throw Error(code, message); }

}  // namespace dynasparse
