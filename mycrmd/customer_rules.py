"""What a customer's fields may hold: the checks the web API and the CSV import share, so a
value refused in one is refused in the other, with the same words."""

from typing import Any

from mycrmd.addresses import InvalidAddress, check_address
from mycrmd.text import Text

# Column sizes of the customers table (SPEC R-DB2).
LENGTHS = {
    "name": 128,
    "email": 256,
    "company": 128,
    "country": 30,
    "address": 256,
    "phone": 30,
    "website": 256,
    "comment": 512,
}
TEXT_FIELDS = ("name", "company", "country", "address", "phone", "website")
# What the grid edits in place; the comment has its own editor (SPEC R-CU2, R-CU3).
EDITABLE = (
    "name",
    "email",
    "importance",
    "company",
    "country",
    "address",
    "phone",
    "website",
    "valid",
)
# Set by the jobs or by their own editor, never by an edit of the row.
NOT_EDITABLE = ("id", "comment", "last_contact_date", "last_checked_date", "last_checked_log")

LABELS = {
    "id": ("编号", "ID"),
    "name": ("联系人", "Name"),
    "email": ("邮箱", "Email"),
    "importance": ("客户评级", "Importance"),
    "company": ("公司", "Company"),
    "country": ("国家", "Country"),
    "address": ("地址", "Address"),
    "phone": ("电话", "Phone"),
    "website": ("网站", "Website"),
    "comment": ("备注", "Comment"),
    "last_contact_date": ("最近联系时间", "Last contact"),
    "last_checked_date": ("上次检查时间", "Last checked"),
    "last_checked_log": ("检查结果", "Check result"),
    "valid": ("有效性", "Valid"),
}


class FieldError(ValueError):
    def __init__(self, field: str, message: Text, code: str = "invalid_field") -> None:
        super().__init__(message.en)
        self.field = field
        self.message = message
        self.code = code  # invalid_field | field_not_editable | unknown_field


def check_field(field: str, value: Any) -> Any:
    """The value as it will be stored, or FieldError saying why not."""
    label = LABELS[field]
    if field == "email":
        if not isinstance(value, str) or not value.strip():
            raise FieldError(field, Text(f"{label[0]}不能为空", f"{label[1]} is required"))
        try:
            value = check_address(value)
        except InvalidAddress as exc:
            raise FieldError(
                field,
                Text(f"邮箱地址无效: {value} ({exc})", f"not a valid address: {value} ({exc})"),
            ) from None
    elif field in ("importance", "valid"):
        allowed = range(0, 6) if field == "importance" else range(0, 3)
        number = _integer(value)
        if number is None or number not in allowed:
            choices = f"{allowed.start}-{allowed.stop - 1}"
            raise FieldError(
                field,
                Text(
                    f"{label[0]}必须是 {choices} 的整数",
                    f"{label[1]} must be a whole number {choices}",
                ),
            )
        return number
    elif value is None:
        return ""
    elif not isinstance(value, str):
        raise FieldError(field, Text(f"{label[0]}必须是文本", f"{label[1]} must be text"))
    limit = LENGTHS.get(field)
    if limit is not None and len(value) > limit:  # as sent: the API's schema says maxLength
        raise FieldError(
            field,
            Text(
                f"{label[0]}过长: {len(value)} 个字符, 最多 {limit}",
                f"{label[1]} is too long: {len(value)} characters, at most {limit}",
            ),
        )
    return value.strip()


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def check_customer(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Checked values for a new customer (email required; valid 2 and importance 0 unless
    given) or for an edit of the row (only EDITABLE fields)."""
    for field in data:
        if field in NOT_EDITABLE:
            label = LABELS[field]
            message = Text(f"{label[0]}不能在此修改", f"{label[1]} cannot be changed here")
            raise FieldError(field, message, "field_not_editable")
        if field not in EDITABLE:
            message = Text(f"未知字段: {field}", f"unknown field: {field}")
            raise FieldError(field, message, "unknown_field")
    checked = {field: check_field(field, value) for field, value in data.items()}
    if creating:
        if "email" not in checked:
            checked["email"] = check_field("email", None)
        checked.setdefault("valid", 2)
        checked.setdefault("importance", 0)
    return checked
