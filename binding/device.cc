// backends(), memory(), resetPeakMemory(), synchronize().
#include <napi.h>

#include "args.h"
#include "dynasparse/cpu_runtime.h"
#include "dynasparse/cuda_runtime.h"
#include "dynasparse/memory.h"
#include "export.h"
#include "register.h"

namespace dynasparse::binding {
namespace {

Napi::Value backends(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("name", "cpu");
  cpu.Set("available", true);
  cpu.Set("threads", cpu::thread_count());
#if defined(DYNASPARSE_WITH_OPENBLAS)
  cpu.Set("blas", "openblas");
#else
  cpu.Set("blas", "builtin");
#endif

  const cuda::DeviceInfo& d = cuda::device_info();
  Napi::Object gpu = Napi::Object::New(env);
  gpu.Set("name", "cuda");
  gpu.Set("available", d.available);
  gpu.Set("compiled", d.compiled);
  if (!d.available) gpu.Set("reason", d.reason);
  if (!d.device_name.empty()) {
    gpu.Set("deviceName", d.device_name);
    gpu.Set("computeCapability", d.compute_capability_name());
    gpu.Set("totalMemory", static_cast<double>(d.total_memory));
  }
  Napi::Object libraries = Napi::Object::New(env);
  libraries.Set("cusparse", d.cusparse);
  libraries.Set("cusparselt", d.cusparselt);
  libraries.Set("cublas", d.cublas);
  gpu.Set("libraries", libraries);

  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, cpu);
  out.Set(1u, gpu);
  return out;
}

Napi::Value memory(const Napi::CallbackInfo& info) {
  const MemoryStats s = memory_stats(device_arg(info, 0, "device"));
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("bytesInUse", static_cast<double>(s.bytes_in_use));
  out.Set("peakBytes", static_cast<double>(s.peak_bytes));
  out.Set("allocations", static_cast<double>(s.allocations));
  return out;
}

Napi::Value reset_peak(const Napi::CallbackInfo& info) {
  reset_peak_memory(device_arg(info, 0, "device"));
  return info.Env().Undefined();
}

Napi::Value sync(const Napi::CallbackInfo& info) {
  const Device device = device_arg(info, 0, "device");
  if (device == Device::Cuda) cuda::require_available();
  synchronize(device);
  return info.Env().Undefined();
}

}  // namespace

namespace {
void register_device(Napi::Env env, Napi::Object exports) {
  export_function<backends>(env, exports, "backends");
  export_function<memory>(env, exports, "memory");
  export_function<reset_peak>(env, exports, "resetPeakMemory");
  export_function<sync>(env, exports, "synchronize");
}

}  // namespace
DS_REGISTER_BINDING(register_device);

}  // namespace dynasparse::binding
