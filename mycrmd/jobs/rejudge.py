"""Re-judging stored bounces with today's rules (`mycrmd rejudge-bounces`): customers the old
rules invalidated for a notice that is now soft, or that only quoted them, are restored.

Only the notice's text was stored (as sanitised HTML), not its delivery-status part, so a
notice is rebuilt as a plain text mail from the null sender and judged again; an address stays
invalid when any of its stored notices still says it is dead.
"""

import html
import re
from dataclasses import dataclass
from email.message import Message

from mycrmd.mail.bounce import detect_bounce
from mycrmd.store import validity
from mycrmd.store.pool import Pool, Row

# A database older than this schema version had its bounces judged by older rules: upgrading
# it re-judges them once (docs/DESIGN.md).
REJUDGED_FROM = 2


@dataclass(frozen=True)
class Change:
    customer_id: int
    email: str
    was: str  # the old rules' last_checked_log
    now: str  # what the new rules say


async def rejudge_bounces(pool: Pool, *, dry_run: bool) -> list[Change]:
    changes = []
    for customer in await validity.bounce_invalidated(pool):
        address = str(customer["email"])
        notices = await validity.bounces_for(pool, address)
        verdicts = [_verdict(notice, address) for notice in notices]
        if any(dead for dead, _ in verdicts):
            continue
        now = next((said for _, said in verdicts if said), "no notice names it as dead")
        changes.append(Change(int(customer["id"]), address, str(customer["last_checked_log"]), now))
        if not dry_run:
            message_id = int(notices[0]["id"]) if notices else None
            await validity.restore(pool, int(customer["id"]), f"rejudged: {now}", message_id)
    return changes


def _verdict(notice: Row, address: str) -> tuple[bool, str]:
    """Whether this stored notice says the address is dead, and the new reason."""
    text = re.sub(r"<br\s*/?>|</p>|</div>", "\n", str(notice["content"] or ""))
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    msg = Message()
    msg["From"] = "MAILER-DAEMON"
    msg["Return-Path"] = "<>"
    msg["Subject"] = str(notice["subject"] or "")
    msg.set_payload(text, "utf-8")
    bounce = detect_bounce(msg, "")
    if bounce is None:
        return False, "not a bounce"
    for failure in bounce.failures:
        if failure.address.lower() == address.lower():
            return failure.dead, f"bounce {failure.status} {failure.reason}".replace("  ", " ")
    return False, "only quoted"
