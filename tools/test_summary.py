#!/usr/bin/env python3
"""Prints the test run's summary line from JUnit XML files.

Counts every GoogleTest case under --testlogs (Bazel's test.xml files), every
case of each --junit file (pytest), and the script steps (examples, benchmark
smoke runs), then prints "alerthub: N passed, M failed[, K skipped]". Exits 1
when anything failed, when Bazel reported a failure the XML does not show
(a test that did not build), or when nothing ran.
"""
import argparse
import pathlib
import sys
import xml.etree.ElementTree as ET


def count_cases(root, failures):
    passed = failed = skipped = 0
    for case in root.iter("testcase"):
        name = f"{case.get('classname')}.{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
            failures.append(name)
        elif case.find("skipped") is not None or case.get("result") == "skipped" \
                or case.get("status") == "notrun":
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--testlogs", default="")
    p.add_argument("--junit", action="append", default=[],
                   help="FILE[:EXIT_CODE] — a JUnit file and its runner's exit code")
    p.add_argument("--script-steps", type=int, default=0)
    p.add_argument("--failed-steps", type=int, default=0)
    p.add_argument("--bazel-ok", type=int, default=1)
    a = p.parse_args()

    files = []
    if a.testlogs:
        files += sorted(pathlib.Path(a.testlogs).glob("**/test.xml"))
    runner_rc = {}
    for spec in a.junit:
        path, _, rc = spec.partition(":")
        files.append(pathlib.Path(path))
        runner_rc[pathlib.Path(path)] = int(rc) if rc else 0
    passed = failed = skipped = 0
    failures = []
    for f in files:
        if not f.exists():
            failed += 1
            failures.append(f"{f}: missing (the suite did not run)")
            continue
        try:
            root = ET.parse(f).getroot()
        except ET.ParseError:
            failed += 1
            failures.append(f"{f}: unreadable")
            continue
        pa, fa, sk = count_cases(root, failures)
        rc = runner_rc.get(f, 0)
        if pa + fa + sk == 0:
            fa = 1
            failures.append(f"{f}: no test case ran")
        elif rc != 0 and fa == 0:
            fa = 1
            failures.append(f"{f}: the runner exited {rc} without a failed case")
        passed, failed, skipped = passed + pa, failed + fa, skipped + sk
    passed += a.script_steps - a.failed_steps
    failed += a.failed_steps
    if not a.bazel_ok and failed == 0:
        failed += 1
        failures.append("bazel test: a target failed to build or run (see above)")
    for f in failures:
        print(f"FAILED: {f}")
    line = f"alerthub: {passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
