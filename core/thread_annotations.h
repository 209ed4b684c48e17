// Lock annotations: which mutex guards which state.
//
// STRATA_GUARDED_BY(mu) on a member says every read and write holds `mu`;
// STRATA_REQUIRES(mu) on a function says callers hold it (the "...Locked"
// naming convention); STRATA_EXCLUDES(mu) says callers must not. Under Clang
// they are Clang's thread-safety attributes (checked for syntax and names;
// the -Wthread-safety analysis itself needs capability-annotated mutex types,
// which libstdc++'s std::mutex is not, so strata does not turn it on); under
// GCC they expand to nothing. Either way they document the locking rule at
// the declaration, where a reader and TSan reports lead.
#pragma once

#if defined(__clang__)
#define STRATA_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define STRATA_THREAD_ANNOTATION(x)
#endif

#define STRATA_GUARDED_BY(mu) STRATA_THREAD_ANNOTATION(guarded_by(mu))
#define STRATA_PT_GUARDED_BY(mu) STRATA_THREAD_ANNOTATION(pt_guarded_by(mu))
#define STRATA_REQUIRES(...) STRATA_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define STRATA_EXCLUDES(...) STRATA_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define STRATA_ACQUIRED_AFTER(...) STRATA_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
