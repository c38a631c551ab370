// One registration function per binding file; module.cc calls them all.
#pragma once

#include <napi.h>

namespace dynasparse::binding {

void register_device(Napi::Env env, Napi::Object exports);
void register_tensor(Napi::Env env, Napi::Object exports);

}  // namespace dynasparse::binding
