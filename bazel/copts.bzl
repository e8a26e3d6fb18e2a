"""Compiler options every AlertHub target uses."""

ALERTHUB_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-parameter",
]

# Tests and benchmarks include GoogleTest/Benchmark macros that trip some
# warnings; they still build with -Werror.
ALERTHUB_TEST_COPTS = ALERTHUB_COPTS
