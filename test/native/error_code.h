// The error code a call throws, for the native tests of refused arguments.
#pragma once

#include "dynasparse/error.h"

namespace dynasparse::test {

// The ErrorCode of the dynasparse::Error that f throws, or an invalid code (-1,
// equal to none) when f returns.
template <typename F>
ErrorCode code_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return static_cast<ErrorCode>(-1);
}

}  // namespace dynasparse::test
