"""Print one line per part of `make test` and a total, from pytest's JUnit XML files.

Exits non-zero when a part is missing, ran no test, or had a failure, an error or a skip."""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

PARTS = ["sqlite", "postgresql", "browser"]
results = Path(sys.argv[1])
totals = {"passed": 0, "failed": 0, "skipped": 0}
ok = True
print()
for part in PARTS:
    path = results / f"{part}.xml"
    if not path.exists():
        print(f"{part}: did not run")
        ok = False
        continue
    suite = ET.parse(path).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    tests, failures, errors, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
    passed = tests - failures - errors - skipped
    print(f"{part}: {passed} passed, {failures + errors} failed, {skipped} skipped")
    totals["passed"] += passed
    totals["failed"] += failures + errors
    totals["skipped"] += skipped
    ok = ok and tests > 0 and failures + errors + skipped == 0
print(f"total: {totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
sys.exit(0 if ok else 1)
