"""cc_proto_grpc_library: .proto files compiled with the system protoc.

Bazel 4.2.3's proto rules would download protobuf; instead a genrule runs
Debian's `protoc` (and `grpc_cpp_plugin` for services) and a cc_library
compiles the generated code against the system libraries:

    load("//bazel:proto.bzl", "cc_proto_grpc_library")
    cc_proto_grpc_library(
        name = "admin_proto",
        srcs = ["admin.proto"],
    )
    # #include "alerthub/proto/admin.pb.h" and "alerthub/proto/admin.grpc.pb.h"
"""

def cc_proto_grpc_library(name, srcs, deps = [], grpc = True, visibility = None, testonly = False):
    """Generates and compiles C++ (and gRPC) code for `srcs`.

    Args:
      name: the cc_library's name.
      srcs: .proto files in this package; imports are resolved from the
        workspace root and the system include directory.
      deps: other cc_proto_grpc_library targets whose .proto files `srcs` import.
      grpc: also generate gRPC service stubs.
      visibility: of the cc_library.
      testonly: as for any rule.
    """
    outs = []
    for src in srcs:
        if not src.endswith(".proto"):
            fail("cc_proto_grpc_library srcs must be .proto files: " + src)
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    grpc_flags = ""
    if grpc:
        grpc_flags = "--grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin "
    native.genrule(
        name = name + "_codegen",
        srcs = srcs + [d + "_srcs" for d in deps],
        outs = outs,
        cmd = "protoc --proto_path=. --proto_path=/usr/include --cpp_out=$(GENDIR) " +
              grpc_flags + " ".join(["$(location %s)" % s for s in srcs]),
        testonly = testonly,
    )
    native.filegroup(
        name = name + "_srcs",
        srcs = srcs,
        visibility = visibility,
        testonly = testonly,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + ["@system//:grpc" if grpc else "@system//:protobuf"],
        visibility = visibility,
        testonly = testonly,
    )
