"""Repository rule wrapping Debian's system libraries as cc_library targets.

Each library's linkopts (and extra include directories) are what `pkg-config`
reports on the machine that builds, so the build follows the installed
packages without downloading anything. Headers come from /usr/include, which
the compiler searches by default, so they are treated as system headers and
never trip the project's -Werror.
"""

# name -> (pkg-config modules, extra linkopts)
_LIBS = {
    "absl": ([
        "absl_base",
        "absl_status",
        "absl_statusor",
        "absl_strings",
        "absl_str_format",
        "absl_synchronization",
        "absl_time",
        "absl_flat_hash_map",
        "absl_flat_hash_set",
        "absl_node_hash_map",
        "absl_hash",
        "absl_random_random",
        "absl_flags",
        "absl_flags_parse",
        "absl_flags_usage",
        "absl_flags_reflection",
        "absl_cleanup",
        "absl_optional",
        "absl_span",
        "absl_any_invocable",
        "absl_function_ref",
    ], []),
    "protobuf": (["protobuf"], []),
    "grpc": (["grpc++", "protobuf"], ["-lgrpc++_reflection"]),
    "sqlite3": (["sqlite3"], []),
    "openssl": (["openssl"], []),
    "curl": (["libcurl"], []),
    "gtest": (["gmock", "gtest"], []),
    "gtest_main": (["gmock", "gtest"], ["-lgtest_main"]),
    "benchmark": (["benchmark"], []),
    "benchmark_main": (["benchmark"], ["-lbenchmark_main"]),
    "pq": (["libpq"], []),
    "hiredis": (["hiredis"], []),
    "rdkafka": (["rdkafka"], []),
    "rabbitmq": (["librabbitmq"], []),
    "re2": (["re2"], []),
    "sodium": (["libsodium"], []),
    "python3": (["python3"], []),
}

# Header-only libraries with nothing to link.
_HEADER_ONLY = ["nlohmann_json", "boost", "mustache", "pybind11"]

def _pkg_config(ctx, args):
    res = ctx.execute(["pkg-config"] + args)
    if res.return_code != 0:
        fail("pkg-config %s failed (run tools/bootstrap.sh): %s" % (" ".join(args), res.stderr))
    return [w for w in res.stdout.strip().split(" ") if w]

def _system_libs_impl(ctx):
    lines = ['package(default_visibility = ["//visibility:public"])', ""]
    for name, (modules, extra) in _LIBS.items():
        linkopts = _pkg_config(ctx, ["--libs"] + modules) + extra
        lines.append("cc_library(")
        lines.append('    name = "%s",' % name)
        lines.append("    linkopts = %s," % repr(linkopts))
        lines.append(")")
        lines.append("")
    for name in _HEADER_ONLY:
        lines.append('cc_library(name = "%s")' % name)
        lines.append("")
    lines.append('cc_library(name = "pthread", linkopts = ["-lpthread"])')
    lines.append("")

    # Python headers live outside /usr/include's default search path; dependants
    # get them through a symlinked include tree.
    py_inc = [f[2:] for f in _pkg_config(ctx, ["--cflags-only-I", "python3"]) if f.startswith("-I")]
    if py_inc:
        ctx.symlink(py_inc[0], "python3_include")
        lines.append("cc_library(")
        lines.append('    name = "python3_headers",')
        lines.append('    hdrs = glob(["python3_include/**/*.h"]),')
        lines.append('    includes = ["python3_include"],')
        lines.append(")")
        lines.append("")
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD.bazel", "\n".join(lines))

system_libs = repository_rule(
    implementation = _system_libs_impl,
    local = True,
    doc = "System libraries from Debian, linked with pkg-config's flags.",
)
