// Per-environment state (one per Node.js main thread or worker thread), so the
// addon is context-aware and safe to load in several worker_threads at once.
#pragma once

#include <napi.h>

namespace dynasparse::binding {

struct AddonData {
  Napi::FunctionReference error_class;
  Napi::FunctionReference tensor_class;
};

AddonData& addon_data(Napi::Env env);

}  // namespace dynasparse::binding
