#include "errors.h"

#include "addon_data.h"

namespace dynasparse::binding {

void set_error_class(Napi::Env env, Napi::Function ctor) {
  AddonData& data = addon_data(env);
  data.error_class = Napi::Persistent(ctor);
}

void throw_js(Napi::Env env, ErrorCode code, const std::string& message) {
  AddonData& data = addon_data(env);
  if (data.error_class.IsEmpty()) {
    Napi::Error error = Napi::Error::New(env, message);
    error.Set("code", Napi::String::New(env, error_code_name(code)));
    throw error;
  }
  Napi::Object error =
      data.error_class.New({Napi::String::New(env, error_code_name(code)), Napi::String::New(env, message)});
  throw Napi::Error(env, error);
}

}  // namespace dynasparse::binding
