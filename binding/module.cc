// The addon's entry point: creates the per-environment state and registers
// every binding file's functions. It computes nothing.
#include <napi.h>

#include "addon_data.h"
#include "errors.h"
#include "export.h"
#include "register.h"

namespace dynasparse::binding {

AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

std::vector<RegisterFunction>& registered_bindings() {
  static std::vector<RegisterFunction> all;
  return all;
}

namespace {

Napi::Value set_error_class_js(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "setErrorClass: expected a class");
  set_error_class(info.Env(), info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  exports.Set("setErrorClass", Napi::Function::New<set_error_class_js>(env, "setErrorClass"));
  for (RegisterFunction fn : registered_bindings()) fn(env, exports);
  return exports;
}

}  // namespace dynasparse::binding

static Napi::Object InitDynasparse(Napi::Env env, Napi::Object exports) { return dynasparse::binding::init(env, exports); }

NODE_API_MODULE(dynasparse, InitDynasparse)
