"""Packages the alerthub Python bindings with their compiled extension.

The extension module (alerthub/_alerthub.so) is a Bazel target,
//bindings/python:_alerthub.so; `build_py` builds it with the repository's
offline wrapper, `tools/bazel.sh build -c opt`, and copies it into the
package. Metadata lives in pyproject.toml.

Environment:
  ALERTHUB_PY_EXTENSION=/path/_alerthub.so   use this already-built module
                                             instead of running Bazel
  ALERTHUB_BAZEL_OUTPUT_BASE                 passed on to tools/bazel.sh (a
                                             Bazel server of your own)
"""

import os
import pathlib
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent.parent
TARGET = "//bindings/python:_alerthub.so"
MODULE = "_alerthub.so"


def _bazel(*args, capture=False):
    wrapper = REPO / "tools" / "bazel.sh"
    if not wrapper.is_file():
        raise SystemExit(
            "alerthub: %s not found. Build from a checkout of the AlertHub repository, or set "
            "ALERTHUB_PY_EXTENSION to a built _alerthub.so." % wrapper)
    try:
        done = subprocess.run([str(wrapper), *args], cwd=REPO, check=True,
                              stdout=subprocess.PIPE if capture else None, text=True)
    except subprocess.CalledProcessError as e:
        raise SystemExit("alerthub: `tools/bazel.sh %s` failed with exit code %d"
                         % (" ".join(args), e.returncode)) from e
    return done.stdout.strip() if capture else None


def extension_module():
    """The path of a built _alerthub.so."""
    prebuilt = os.environ.get("ALERTHUB_PY_EXTENSION")
    if prebuilt:
        path = pathlib.Path(prebuilt)
        if not path.is_file():
            raise SystemExit("alerthub: ALERTHUB_PY_EXTENSION=%s is not a file" % prebuilt)
        return path
    _bazel("build", "-c", "opt", TARGET)
    return pathlib.Path(_bazel("info", "-c", "opt", "bazel-bin", capture=True)) / \
        "bindings" / "python" / MODULE


class BuildPyWithExtension(build_py):
    """build_py, plus the Bazel-built extension module."""

    def run(self):
        super().run()
        if self.dry_run:
            return
        source = extension_module()
        target = pathlib.Path(self.build_lib) / "alerthub" / MODULE
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)  # Bazel's outputs are read-only; copy the bytes
        os.chmod(target, 0o755)


class BinaryDistribution(Distribution):
    """Marks the package as platform-specific: the wheel carries a .so."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPyWithExtension}, distclass=BinaryDistribution)
