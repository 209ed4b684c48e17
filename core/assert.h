// Invariant checks. STRATA_ASSERT stays on in every build; STRATA_DASSERT (for
// expensive checks) only runs in debug and sanitizer builds (STRATA_DEBUG_CHECKS).
// Disk bytes are never checked with these: bad input is a Status.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace strata::internal {
[[noreturn]] inline void AssertFail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "strata: assertion failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}
}  // namespace strata::internal

#define STRATA_ASSERT(cond)                                                     \
  do {                                                                          \
    if (__builtin_expect(!(cond), 0))                                           \
      ::strata::internal::AssertFail(#cond, __FILE__, __LINE__);                \
  } while (0)

#ifdef STRATA_DEBUG_CHECKS
#define STRATA_DASSERT(cond) STRATA_ASSERT(cond)
#else
#define STRATA_DASSERT(cond) \
  do {                       \
    (void)sizeof(cond);      \
  } while (0)
#endif
