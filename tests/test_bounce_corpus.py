"""Every notice of the bounce corpus (tests/corpus/bounces, written here, one or more per MTA
and provider, Chinese ones included) judged as its index says: the reason, the bounced address,
and whether that address is dead. Quoted bystanders are never taken for the bounced one."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mycrmd.mail.parse import parse_mail

CORPUS = Path(__file__).parent / "corpus" / "bounces"
INDEX = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
ARRIVED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("case", INDEX, ids=[case["file"] for case in INDEX])
def test_the_corpus_notice_is_judged_as_expected(case: dict[str, object]) -> None:
    bounce = parse_mail((CORPUS / str(case["file"])).read_bytes(), ARRIVED).bounce
    if case["address"] is None:
        assert bounce is None
        return
    assert bounce is not None
    assert bounce.addresses == (case["address"],)
    assert bounce.kind == case["reason"]
    assert bounce.dead_addresses == ((case["address"],) if case["dead"] else ())


def test_the_corpus_covers_hard_soft_and_non_bounces() -> None:
    assert sum(1 for case in INDEX if case["dead"]) >= 15
    assert sum(1 for case in INDEX if case["address"] and not case["dead"]) >= 15
    assert sum(1 for case in INDEX if case["address"] is None) >= 4
