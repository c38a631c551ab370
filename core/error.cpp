#include "dynasparse/error.h"

namespace dynasparse {

const char* error_code_name(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::Arg: return "E_ARG";
    case ErrorCode::Shape: return "E_SHAPE";
    case ErrorCode::Device: return "E_DEVICE";
    case ErrorCode::Disposed: return "E_DISPOSED";
    case ErrorCode::Format: return "E_FORMAT";
    case ErrorCode::Oom: return "E_OOM";
    case ErrorCode::Cuda: return "E_CUDA";
    case ErrorCode::Io: return "E_IO";
  }
  return "E_ARG";
}

}  // namespace dynasparse
