// Registers a native function on the exports object, wrapped in the error guard.
#pragma once

#include <napi.h>

#include "errors.h"

namespace dynasparse::binding {

template <NativeFunction F>
void export_function(Napi::Env env, Napi::Object exports, const char* name) {
  exports.Set(name, Napi::Function::New<guarded<F>>(env, name));
}

}  // namespace dynasparse::binding
