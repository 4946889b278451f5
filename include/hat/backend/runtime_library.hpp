// SPDX-License-Identifier: MIT
// runtime_library: a shared library opened at run time (dlopen) and its functions bound by name.
#pragma once

// Why at run time: a program built with an optional engine's header (NCCL, oneDNN) still starts
// on a machine that lacks the library, and says so where it would use it.
#include <dlfcn.h>

#include <cstring>
#include <string>

namespace hat::detail {

/// `file` opened with its symbols kept local (dlopen, RTLD_NOW); nullptr where the loader cannot,
/// with the loader's reason in `why`.
inline void* open_runtime_library(const char* file, std::string& why) {
  void* handle = dlopen(file, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* e = dlerror();
    why = e ? e : std::string("cannot open ") + file;
  }
  return handle;
}

/// Binds the function `f` to the symbol `name` of `handle` (or of a library it depends on, as
/// dlsym searches); false where there is none.
template <class F>
bool bind_runtime_symbol(void* handle, F& f, const char* name) noexcept {
  void* p = dlsym(handle, name);
  if (!p) return false;
  static_assert(sizeof f == sizeof p);
  std::memcpy(&f, &p, sizeof p);  // object to function pointer: as POSIX's dlsym promises
  return true;
}

}  // namespace hat::detail
