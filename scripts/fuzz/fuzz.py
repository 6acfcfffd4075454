"""Helpers for scripts/fuzz.sh (standard library only).

  fuzz.py operations DOCUMENT IDENTITY   operation ids an identity can reach, one a line
  fuzz.py token FILE FIELD               a field of a login answer
  fuzz.py summary DIR IDENTITY...        per-identity table from DIR/IDENTITY.json, "cases failures"
                                         in DIR/totals; exit 1 on a failure
  fuzz.py leaks LOG NAME...              the environment variables NAME whose value appears in LOG
                                         (prints names, never a value)

Checks whose failures fail the run, and checks that only measure how closely the
document describes the server (`INFORMATIONAL`): a request the document calls valid but the
server refuses (positive_data_acceptance), one it calls invalid but the server accepts
(negative_data_rejection). Both have causes JSON Schema cannot express (an id that names
nothing, a cursor the service did not issue, a 72-byte password limit), so they are counted,
listed and left to a reader.
"""

import json
import os
import sys

# Failure types in schemathesis's report of the two informational checks; any other type comes
# from a gating check (not_a_server_error, status_code_conformance, content_type_conformance,
# response_schema_conformance, response_headers_conformance, unsupported_method,
# missing_required_header: the --checks of fuzz.sh).
INFORMATIONAL = {
    "RejectedPositiveData": "positive_data_acceptance",
    "AcceptedNegativeData": "negative_data_rejection",
}
ROLES = {"customer", "merchant", "hub_staff", "admin"}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def operations(document_path, identity):
    """Anonymous: every operation (the public ones in depth, the rest answer 401). A role: the
    operations that need a token and that role may call (`x-roles` absent or naming it)."""
    document = json.load(open(document_path, encoding="utf-8"))
    secured_by_default = bool(document.get("security"))
    ids = []
    for item in document["paths"].values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            if identity == "anonymous":
                ids.append(operation["operationId"])
                continue
            secured = bool(operation["security"]) if "security" in operation else secured_by_default
            roles = operation.get("x-roles")
            if secured and (roles is None or identity in roles):
                ids.append(operation["operationId"])
    if identity != "anonymous" and identity not in ROLES:
        sys.exit(f"unknown identity {identity}")
    print("\n".join(sorted(ids)))


def token(path, field):
    value = json.load(open(path, encoding="utf-8")).get(field)
    if not isinstance(value, str) or not value:
        sys.exit(f"the login answer has no {field}")
    print(value)


def summary(directory, identities):
    rows, gating, informational, problems = [], [], [], []
    for identity in identities:
        try:
            report = json.load(open(f"{directory}/{identity}.json", encoding="utf-8"))
        except (OSError, ValueError):
            problems.append(f"{identity}: schemathesis wrote no report (see {directory}/{identity}.log)")
            rows.append((identity, "-", "-", "-", "-"))
            continue
        cases = report["test_cases"]["generated"]
        ops = report["operations"] or {}
        by_type = {}
        for group in report["failures"]:
            by_type.setdefault(group["type"], []).append(group)
        gate = sum(g["count"] for t, groups in by_type.items() if t not in INFORMATIONAL for g in groups)
        info = sum(g["count"] for t, groups in by_type.items() if t in INFORMATIONAL for g in groups)
        for failure_type, groups in sorted(by_type.items()):
            for group in groups:
                check = INFORMATIONAL.get(failure_type, failure_type)
                line = f"{identity}: {check}: {group['title']} x{group['count']} in {', '.join(group['operations'])}"
                (informational if failure_type in INFORMATIONAL else gating).append(line)
        for error in report["errors"]:
            problems.append(f"{identity}: error: {error['title']} x{error['count']}")
        if not report["complete"]:
            problems.append(f"{identity}: the run did not finish ({report['stop_reason']})")
        rows.append((identity, str(ops.get("tested", "-")), str(cases), str(gate), str(info)))

    total = sum(int(r[2]) for r in rows if r[2].isdigit())
    with open(f"{directory}/totals", "w", encoding="utf-8") as totals:
        totals.write(f"{total} {len(gating) + len(problems)}\n")
    header = ("identity", "operations", "cases", "failures", "doc mismatches")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    def fmt(row):
        return "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
    print(fmt(header))
    for row in rows:
        print(fmt(row))
    print(fmt(("total", "", str(total), str(sum(int(r[3]) for r in rows if r[3].isdigit())),
               str(sum(int(r[4]) for r in rows if r[4].isdigit())))))
    if informational:
        print("\nWhere the document and the server disagree (counted, not failing):")
        print("\n".join(f"  {line}" for line in informational))
    if gating or problems:
        print("\nFAILURES:")
        print("\n".join(f"  {line}" for line in gating + problems))
        sys.exit(1)


def leaks(log_path, names):
    text = open(log_path, encoding="utf-8", errors="replace").read()
    found = []
    for name in names:
        value = os.environ.get(name, "")
        if len(value) < 8:
            sys.exit(f"{name} is not set to a value worth looking for")
        if value in text:
            found.append(name)
    print("\n".join(found))


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "operations":
        operations(*args)
    elif command == "token":
        token(*args)
    elif command == "summary":
        summary(args[0], args[1:])
    elif command == "leaks":
        leaks(args[0], args[1:])
    else:
        sys.exit(f"unknown command {command}")
