// Each binding file registers its functions with DS_REGISTER_BINDING(fn), so
// adding a kernel family never touches a shared list. module.cc runs them all.
#pragma once

#include <napi.h>

#include <vector>

namespace dynasparse::binding {

using RegisterFunction = void (*)(Napi::Env env, Napi::Object exports);

std::vector<RegisterFunction>& registered_bindings();

struct BindingRegistrar {
  explicit BindingRegistrar(RegisterFunction fn) { registered_bindings().push_back(fn); }
};

}  // namespace dynasparse::binding

#define DS_REGISTER_BINDING(fn) \
  static const ::dynasparse::binding::BindingRegistrar ds_binding_registrar_##fn{&fn}
