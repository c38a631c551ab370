// Per-environment state (one per Node.js main thread or worker thread), so the
// addon is context-aware and safe to load in several worker_threads at once.
#pragma once

#include <napi.h>

#include <vector>

namespace dynasparse::binding {

struct AddonData {
  Napi::FunctionReference error_class;
  Napi::FunctionReference tensor_class;
  // Native calls of this thread running now: more than one when JavaScript that
  // a call ran (a getter or Proxy of an argument it read) called the addon again.
  int calls = 0;
  // Tensors disposed from such JavaScript: their memory is freed when the
  // outermost call returns (see NativeTensor::dispose).
  std::vector<Napi::ObjectReference> deferred_disposals;
};

AddonData& addon_data(Napi::Env env);

// Counts one native call for its duration (every exported function runs in
// one: see guarded); the outermost one frees the deferred disposals as it ends.
class NativeCallScope {
 public:
  explicit NativeCallScope(Napi::Env env);
  ~NativeCallScope();
  NativeCallScope(const NativeCallScope&) = delete;
  NativeCallScope& operator=(const NativeCallScope&) = delete;

 private:
  AddonData* data_;
};

}  // namespace dynasparse::binding
