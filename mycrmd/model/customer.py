"""A customer's fields, each defined once: its column and SQL type, what may hold, whether a
person edits it, its labels, its CSV headers and whether the search box looks in it.

The store's column lists, the import and export, the field checks, the OpenAPI document, the
templates and the page's JavaScript all read these definitions. Adding a field is one entry
here plus a migration step (store/migrate.py) that adds its column.
"""

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from mycrmd.model.words import Text


class Validity(IntEnum):
    """customers.valid, as MyCRM stored it (R-DB2)."""

    INVALID = 0
    VALID = 1
    UNCONFIRMED = 2


VALIDITY_LABELS = {
    Validity.INVALID: Text("无效", "Invalid"),
    Validity.VALID: Text("有效", "Valid"),
    Validity.UNCONFIRMED: Text("未确认", "Unconfirmed"),
}
# The order people choose in: the default first.
VALIDITY_CHOICES = (Validity.UNCONFIRMED, Validity.VALID, Validity.INVALID)
IMPORTANCE = range(0, 6)


class Kind(StrEnum):
    ID = "id"
    TEXT = "text"
    EMAIL = "email"
    RICH_TEXT = "rich_text"  # sanitised HTML, edited in its own editor
    NUMBER = "number"  # a whole number from `choices`
    VALIDITY = "validity"
    DATETIME = "datetime"


@dataclass(frozen=True)
class Field:
    name: str
    sql_type: str
    kind: Kind
    label: Text
    length: int | None = None  # characters, for text kinds
    choices: tuple[int, ...] = ()
    editable: bool = False  # changed by a person's edit of the row (R-CU2)
    csv_header: str | None = None  # the English CSV header; None: not in CSV files
    csv_aliases: tuple[str, ...] = ()  # other headers a CSV file may use for it
    searchable: bool = False  # the search box looks in it
    default: int | None = None  # for a new customer when not given

    @property
    def in_csv(self) -> bool:
        return self.csv_header is not None


FIELDS: tuple[Field, ...] = (
    Field("id", "INT UNSIGNED", Kind.ID, Text("编号", "ID")),
    Field(
        "name",
        "VARCHAR(128)",
        Kind.TEXT,
        Text("联系人", "Name"),
        length=128,
        editable=True,
        csv_header="Name",
        searchable=True,
    ),
    Field(
        "email",
        "VARCHAR(256)",
        Kind.EMAIL,
        Text("邮箱", "Email"),
        length=256,
        editable=True,
        csv_header="Email",
        csv_aliases=("e-mail", "邮件"),
        searchable=True,
    ),
    Field(
        "importance",
        "TINYINT UNSIGNED",
        Kind.NUMBER,
        Text("客户评级", "Importance"),
        choices=tuple(IMPORTANCE),
        editable=True,
        csv_header="Importance",
        default=0,
    ),
    Field(
        "company",
        "VARCHAR(128)",
        Kind.TEXT,
        Text("公司", "Company"),
        length=128,
        editable=True,
        csv_header="Company",
        searchable=True,
    ),
    Field(
        "country",
        "VARCHAR(30)",
        Kind.TEXT,
        Text("国家", "Country"),
        length=30,
        editable=True,
        csv_header="Country",
        searchable=True,
    ),
    Field(
        "address",
        "VARCHAR(256)",
        Kind.TEXT,
        Text("地址", "Address"),
        length=256,
        editable=True,
        csv_header="Address",
    ),
    Field(
        "phone",
        "VARCHAR(30)",
        Kind.TEXT,
        Text("电话", "Phone"),
        length=30,
        editable=True,
        csv_header="Phone",
        searchable=True,
    ),
    Field(
        "website",
        "VARCHAR(256)",
        Kind.TEXT,
        Text("网站", "Website"),
        length=256,
        editable=True,
        csv_header="Website",
    ),
    Field(
        "comment",
        "VARCHAR(512)",
        Kind.RICH_TEXT,
        Text("备注", "Comment"),
        length=512,
        csv_header="Comment",
    ),
    Field(
        "last_contact_date",
        "DATETIME",
        Kind.DATETIME,
        Text("最近联系时间", "Last contact"),
        csv_header="Last_contact_date",
        csv_aliases=("last contact",),
    ),
    Field("last_checked_date", "DATETIME", Kind.DATETIME, Text("上次检查时间", "Last checked")),
    Field(
        "last_checked_log",
        "VARCHAR(256)",
        Kind.TEXT,
        Text("检查结果", "Check result"),
        length=256,
    ),
    Field(
        "valid",
        "TINYINT UNSIGNED",
        Kind.VALIDITY,
        Text("有效性", "Valid"),
        choices=tuple(VALIDITY_CHOICES),
        editable=True,
        csv_header="Valid",
        default=Validity.UNCONFIRMED,
    ),
    # Hidden from follow-up and 待回复 until this moment (the start of the chosen day).
    Field("snoozed_until", "DATETIME", Kind.DATETIME, Text("暂缓至", "Snoozed until")),
)

BY_NAME = {field.name: field for field in FIELDS}
COLUMNS = tuple(field.name for field in FIELDS)
EDITABLE = tuple(field.name for field in FIELDS if field.editable)
# What a CSV file holds, in MyCRM's order.
CSV_FIELDS = tuple(field.name for field in FIELDS if field.in_csv)
SEARCHABLE = tuple(field.name for field in FIELDS if field.searchable)
# The CSV exports (R-IO1): every customer, valid (1), invalid (0), the grid as shown, those
# due for follow-up (English headers, for mass-mailing software), those awaiting our reply
# (待回复), and the import template.
EXPORT_KINDS = ("all", "valid", "invalid", "current", "followup", "awaiting", "template")
# The grids' columns shown until a person chooses (R-CU1 has 14, too many for a laptop): the
# key ones always, and on a wide screen the usual ones beside them.
KEY_COLUMNS = ("name", "email", "last_contact_date", "valid")
DEFAULT_COLUMNS = ("id", "name", "email", "importance", "company", "country", *KEY_COLUMNS[2:])
# The grids a `current` export can show: every customer, or those due for follow-up.
GRID_LISTS = ("customers", "followup")
