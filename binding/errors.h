// Turning C++ failures into JavaScript DynasparseError objects.
#pragma once

#include <napi.h>

#include <string>

#include "addon_data.h"
#include "dynasparse/error.h"

namespace dynasparse::binding {

// Stores the DynasparseError class the TypeScript layer hands over at load.
void set_error_class(Napi::Env env, Napi::Function ctor);

// Builds a DynasparseError (code, message) and throws it as a C++ exception
// that node-addon-api rethrows into JavaScript.
[[noreturn]] void throw_js(Napi::Env env, ErrorCode code, const std::string& message);

using NativeFunction = Napi::Value (*)(const Napi::CallbackInfo&);

// Every exported function runs inside this guard, so no C++ exception reaches
// JavaScript as anything but a DynasparseError with a stable code.
template <NativeFunction F>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  const NativeCallScope call(info.Env());
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    throw_js(info.Env(), e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw_js(info.Env(), ErrorCode::Oom, "out of host memory");
  } catch (const std::exception& e) {
    throw_js(info.Env(), ErrorCode::Arg, e.what());
  }
}

}  // namespace dynasparse::binding
