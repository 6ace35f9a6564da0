"""Why a customer is due for follow-up: the rule that made it due and the columns the
follow-up list adds to a customer's fields so people can see, and sort by, the reason."""

from enum import StrEnum

from mycrmd.model.words import Text


class DueRule(StrEnum):
    MYCRM = "mycrm"  # MyCRM's single rule: importance <op> n, followup_days (R-FU1)
    CADENCE = "cadence"  # followup_days_by_importance: the rating's own interval


DUE_RULE_LABELS = {
    DueRule.MYCRM: Text("超过 {days} 天未联系", "no mail for over {days} days"),
    DueRule.CADENCE: Text(
        "评级 {importance}：每 {days} 天", "importance {importance}: every {days} days"
    ),
}

# 待回复: how many hours a received mail waits before it is listed, unless the list says.
AWAITING_HOURS = 24

# What each follow-up row holds beside the customer's fields. Days are calendar days, as the
# rule counts them (DATEDIFF); null when never mailed (or, for the company, no company).
REASON_COLUMNS = {
    "days_since_contact": Text("距上次邮件天数", "Days since our last mail"),
    "days_since_company_contact": Text("公司距上次邮件天数", "Days since the company's last mail"),
    "due_rule": Text("跟进原因", "Why due"),
}
# The reason columns the list sorts by; due_rule and due_after_days follow the importance, so
# the grid sorts that column by importance.
REASON_SORTS = ("days_since_contact", "days_since_company_contact")
