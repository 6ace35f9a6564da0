"""Bounce judging, ours beside flufl.bounce (Mailman's detectors), on the written corpus.

    python tests/bench/bench_bounces.py [--flufl-tests DIR]

For each notice of tests/corpus/bounces the set of addresses each side would invalidate:
ours is `Bounce.dead_addresses`, flufl.bounce's is `scan_message` (its permanent failures).
Prints, side by side: recall (dead-address notices invalidating exactly the right address),
false invalidations (soft bounces and non-bounces invalidating anyone), precision (invalidated
addresses that were right). With --flufl-tests (the tests/ directory of flufl.bounce's source
distribution: Mailman's samples and their expectations), the same side by side there.
Asserts nothing.
"""

import argparse
import ast
import email
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from flufl.bounce import scan_message

from mycrmd.mail.parse import parse_mail

CORPUS = Path(__file__).parents[1] / "corpus" / "bounces"
ARRIVED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def ours(raw: bytes) -> set[str]:
    bounce = parse_mail(raw, ARRIVED).bounce
    return {a.lower() for a in bounce.dead_addresses} if bounce else set()


def theirs(raw: bytes) -> set[str]:
    """flufl.bounce's detectors raise on some 8-bit headers: counted as nothing found."""
    try:
        found = scan_message(email.message_from_bytes(raw))
    except (AttributeError, TypeError, UnicodeError):
        return set()
    return {(a.decode() if isinstance(a, bytes) else a).lower() for a in found}


def corpus_figures() -> None:
    index = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
    print(f"corpus: {len(index)} notices ({sum(c['dead'] for c in index)} dead-address)")
    print(f"{'':22}{'ours':>10}{'flufl.bounce':>14}")
    rows: dict[str, list[str]] = {"recall": [], "false invalidations": [], "precision": []}
    for judge in (ours, theirs):
        hits = false = right = total = 0
        for case in index:
            found = judge((CORPUS / case["file"]).read_bytes())
            expected = {case["address"].lower()} if case["dead"] else set()
            total += len(found)
            right += len(found & expected)
            if case["dead"]:
                hits += found == expected
            else:
                false += bool(found)
        dead = sum(c["dead"] for c in index)
        rows["recall"].append(f"{hits / dead:.0%}")
        rows["false invalidations"].append(f"{false / (len(index) - dead):.0%}")
        rows["precision"].append(f"{right / total:.0%}" if total else "-")
    for name, (a, b) in rows.items():
        print(f"{name:22}{a:>10}{b:>14}")


_CASE = re.compile(r"\(\s*'\w+',\s*'([^']+)',\s*(\[[^\]]*\]),\s*(True|False)\)", re.S)


def sample_figures(tests: Path) -> None:
    """flufl.bounce's samples with the expectations of its test_detectors.py: permanent
    failures (Mailman counts every permanent bounce, so ours, which invalidates only dead
    addresses, is held to a stricter rule), warnings, and addresses invalidated that the
    sample does not name (bystanders)."""
    cases = [
        (name, {a.decode().lower() for a in ast.literal_eval(found)}, warning == "True")
        for name, found, warning in _CASE.findall((tests / "test_detectors.py").read_text())
    ]
    permanent = [(n, e) for n, e, w in cases if e and not w]
    soft = [n for n, e, w in cases if w or not e]
    print(f"flufl.bounce samples: {len(permanent)} permanent, {len(soft)} warnings or none")
    print(f"{'':22}{'ours':>10}{'flufl.bounce':>14}")
    figures = []
    for judge in (ours, theirs):
        found = {n: judge((tests / "data" / n).read_bytes()) for n, _, _ in cases}
        hits = sum(found[n] == e for n, e in permanent)
        false = sum(bool(found[n]) for n in soft)
        strangers = sum(len(found[n] - e) for n, e, _ in cases)
        figures.append((f"{hits / len(permanent):.0%}", f"{false}/{len(soft)}", str(strangers)))
    for row, name in enumerate(("permanent found", "warnings invalidating", "bystanders")):
        print(f"{name:22}{figures[0][row]:>10}{figures[1][row]:>14}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--flufl-tests", type=Path, help="tests/ of flufl.bounce's sdist")
    args = parser.parse_args()
    corpus_figures()
    if args.flufl_tests:
        sample_figures(args.flufl_tests)
