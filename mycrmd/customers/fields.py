"""What a customer's fields may hold: the checks the web API and the CSV import share, so a
value refused in one is refused in the other, with the same words. The limits themselves
are the model's (model/customer.py)."""

from typing import Any

from mycrmd.customers.addresses import InvalidAddress, check_address
from mycrmd.model.customer import BY_NAME, EDITABLE, Kind
from mycrmd.model.numbers import whole_number
from mycrmd.model.words import Text


class FieldError(ValueError):
    def __init__(self, field: str, message: Text, code: str = "invalid_field") -> None:
        super().__init__(message.en)
        self.field = field
        self.message = message
        self.code = code  # invalid_field | field_not_editable | unknown_field


def check_field(name: str, value: Any) -> Any:
    """The value as it will be stored, or FieldError saying why not."""
    field = BY_NAME[name]
    label = field.label
    if field.kind is Kind.EMAIL:
        if not isinstance(value, str) or not value.strip():
            raise FieldError(name, Text(f"{label.zh}不能为空", f"{label.en} is required"))
        try:
            value = check_address(value)
        except InvalidAddress as exc:
            raise FieldError(
                name,
                Text(
                    f"邮箱地址无效: {value}（{exc.reason.zh}）",
                    f"not a valid address: {value} ({exc.reason.en})",
                ),
            ) from None
    elif field.choices:
        number = _integer(value)
        if number is None or number not in field.choices:
            choices = f"{min(field.choices)}-{max(field.choices)}"
            raise FieldError(
                name,
                Text(
                    f"{label.zh}必须是 {choices} 的整数",
                    f"{label.en} must be a whole number {choices}",
                ),
            )
        return number
    elif value is None:
        return ""
    elif not isinstance(value, str):
        raise FieldError(name, Text(f"{label.zh}必须是文本", f"{label.en} must be text"))
    if field.length is not None and len(value) > field.length:  # as sent: the schema's maxLength
        raise FieldError(
            name,
            Text(
                f"{label.zh}过长: {len(value)} 个字符, 最多 {field.length}",
                f"{label.en} is too long: {len(value)} characters, at most {field.length}",
            ),
        )
    return value.strip()


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        number = whole_number(text.removeprefix("-"))
        return None if number is None else -number if text.startswith("-") else number
    return None


def check_customer(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Checked values for a new customer (email required; the model's defaults for what is
    not given) or for an edit of the row (only editable fields)."""
    for name in data:
        if name not in BY_NAME:
            message = Text(f"未知字段: {name}", f"unknown field: {name}")
            raise FieldError(name, message, "unknown_field")
        if name not in EDITABLE:
            label = BY_NAME[name].label
            message = Text(f"{label.zh}不能在此修改", f"{label.en} cannot be changed here")
            raise FieldError(name, message, "field_not_editable")
    checked = {name: check_field(name, value) for name, value in data.items()}
    if creating:
        if "email" not in checked:
            checked["email"] = check_field("email", None)
        for name in EDITABLE:
            default = BY_NAME[name].default
            if default is not None:
                checked.setdefault(name, int(default))
    return checked
