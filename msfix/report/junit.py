"""--output-format junit: JUnit XML, one <testsuite> per file and one failing
<testcase> per diagnostic (a file without any has one passing test case), for CI
systems that show test reports (GitLab, Jenkins, Azure)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from msfix.report import location


def report(results, out, **_) -> None:
    root = ET.Element("testsuites", name="msfix")
    total = failures = 0
    for r in results:
        suite = ET.SubElement(root, "testsuite", name=r.path)
        n = len(r.diagnostics)
        if r.error:
            case = ET.SubElement(suite, "testcase", classname=r.path, name="msfix")
            ET.SubElement(case, "error", message=r.error).text = r.error
            suite.set("errors", "1")
        elif not n:
            ET.SubElement(suite, "testcase", classname=r.path, name="msfix")
        for d in r.diagnostics:
            where = location(d)
            case = ET.SubElement(suite, "testcase", classname=r.path, name=f"{d.code} {d.name} at {where}")
            case.set("line", str(d.span.line))
            fail = ET.SubElement(case, "failure", message=d.message, type=d.code)
            fail.text = f"{d.path}:{where}: {d.code} [{d.severity.value}] {d.message}"
        suite.set("tests", str(max(n, 1)))
        suite.set("failures", str(n))
        suite.set("errors", suite.get("errors", "0"))
        total += max(n, 1)
        failures += n
    root.set("tests", str(total))
    root.set("failures", str(failures))
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
