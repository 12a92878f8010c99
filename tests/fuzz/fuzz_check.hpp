// FUZZ_CHECK: an invariant of the code under test; a failure aborts, so libFuzzer saves the
// input as a crash file (assert() would vanish under NDEBUG in RelWithDebInfo builds).
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (0)

// UBSan options baked into every target, so running one by hand (to reproduce a crash file)
// behaves as under scripts/fuzz: stop at the first finding except the suppressed third-party ones
// (SHOPD_UBSAN_SUPPRESSIONS: tests/fuzz/ubsan.supp, set by tests/fuzz/CMakeLists.txt).
extern "C" const char *__ubsan_default_options() {
    return "halt_on_error=1:print_stacktrace=1:suppressions=" SHOPD_UBSAN_SUPPRESSIONS;
}
