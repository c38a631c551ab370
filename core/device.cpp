#include "dynasparse/device.h"

#include "dynasparse/error.h"

namespace dynasparse {

const char* device_name(Device device) noexcept { return device == Device::Cuda ? "cuda" : "cpu"; }

Device parse_device(const std::string& name, const char* what) {
  if (name == "cpu") return Device::Cpu;
  if (name == "cuda") return Device::Cuda;
  fail(ErrorCode::Arg, std::string(what) + ": expected 'cpu' or 'cuda', got '" + name + "'");
}

std::size_t dtype_size(DType dtype) noexcept { return dtype == DType::F32 ? 4 : 4; }

const char* dtype_name(DType dtype) noexcept { return dtype == DType::F32 ? "float32" : "int32"; }

}  // namespace dynasparse
