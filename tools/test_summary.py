#!/usr/bin/env python3
"""Prints the test run's summary line from Bazel's JUnit XML files.

Usage: test_summary.py TESTLOGS_DIR FAILED_STEPS SCRIPT_STEPS

Counts every GoogleTest case in TESTLOGS_DIR/**/test.xml, adds the script
steps (examples, benchmark smoke runs: SCRIPT_STEPS in all, FAILED_STEPS of
them failed) and prints "alerthub: N passed, M failed[, K skipped]". Exits 1
when anything failed or nothing ran.
"""
import pathlib
import sys
import xml.etree.ElementTree as ET


def main() -> int:
    logs = pathlib.Path(sys.argv[1])
    failed_steps = int(sys.argv[2])
    script_steps = int(sys.argv[3])
    passed = failed = skipped = 0
    failures = []
    for xml in sorted(logs.glob("**/test.xml")):
        try:
            root = ET.parse(xml).getroot()
        except ET.ParseError:
            failed += 1
            failures.append(f"{xml.parent}: unreadable test.xml")
            continue
        cases = list(root.iter("testcase"))
        if not cases:  # a test binary that crashed before writing cases
            if root.get("failures", "0") != "0" or root.get("errors", "0") != "0":
                failed += 1
                failures.append(str(xml.parent))
            continue
        for case in cases:
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                failures.append(f"{case.get('classname')}.{case.get('name')}")
            elif case.get("result") == "skipped" or case.find("skipped") is not None \
                    or case.get("status") == "notrun":
                skipped += 1
            else:
                passed += 1
    passed += script_steps - failed_steps
    failed += failed_steps
    for f in failures:
        print(f"FAILED: {f}")
    line = f"alerthub: {passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
