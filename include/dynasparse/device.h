// Devices and streams as the contract names them. Nothing here includes CUDA
// headers, so the binding and the CPU backend compile without the toolkit.
#pragma once

#include <cstdint>
#include <string>

// cudaStream_t is `CUstream_st*`; declaring the struct lets the contract pass
// streams around without including cuda_runtime.h.
struct CUstream_st;

namespace dynasparse {

using Stream = CUstream_st*;

enum class Device : int { Cpu = 0, Cuda = 1 };
constexpr int kDeviceCount = 2;

const char* device_name(Device device) noexcept;

// Parses "cpu" / "cuda"; throws E_ARG naming `what` otherwise.
Device parse_device(const std::string& name, const char* what);

enum class DType : int { F32 = 0, I32 = 1 };
std::size_t dtype_size(DType dtype) noexcept;
const char* dtype_name(DType dtype) noexcept;

}  // namespace dynasparse
