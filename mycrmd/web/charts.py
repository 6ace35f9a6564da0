"""Chart geometry for the statistics tab. Templates draw it as inline SVG: readable without
JavaScript, values on hover through each bar's <title>, colours from the theme's CSS."""

from dataclasses import dataclass, field

from mycrmd.model.customer import IMPORTANCE, Validity
from mycrmd.model.message import MessageType
from mycrmd.store.stats import WeekOfMail

_STACKED = (Validity.VALID, Validity.UNCONFIRMED, Validity.INVALID)
_WEEKLY = (MessageType.SENDTO, MessageType.RECEIVE)
WIDTH = 720
HEIGHT = 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 48, 16, 16, 56


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # a CSS class: the series
    title: str  # shown on hover


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass
class Chart:
    title: str
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    ticks: list[Label] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)
    empty: str = ""  # said instead of the chart when there is nothing to draw
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def plot_bottom(self) -> int:
        return self.height - _BOTTOM

    @property
    def plot_left(self) -> int:
        return _LEFT


def _scale(top_value: int) -> tuple[int, list[int]]:
    """A round maximum for the axis and its ticks."""
    if top_value <= 0:
        return 1, [0, 1]
    magnitude = 10 ** (len(str(top_value)) - 1)
    for step in (1, 2, 5, 10):
        unit = magnitude * step // 5 or 1
        ceiling = -(-top_value // unit) * unit
        if ceiling / unit <= 5:
            return ceiling, list(range(0, ceiling + 1, unit))
    return top_value, [0, top_value]


def _y(value: float, ceiling: int) -> float:
    usable = HEIGHT - _TOP - _BOTTOM
    return HEIGHT - _BOTTOM - usable * value / ceiling


def importance_chart(
    rows: list[dict[str, int]],
    title: str,
    valid_names: dict[Validity, str],
    importance_name: str,
) -> Chart:
    """Customers per importance, stacked by validity (valid, unconfirmed, invalid)."""
    chart = Chart(title, legend=[(f"valid-{v:d}", valid_names[v]) for v in _STACKED])
    totals = {i: sum(r["count"] for r in rows if r["importance"] == i) for i in IMPORTANCE}
    ceiling, ticks = _scale(max(totals.values(), default=0))
    chart.ticks = [Label(_LEFT - 6, _y(t, ceiling), f"{t:,}") for t in ticks]
    slot = (WIDTH - _LEFT - _RIGHT) / len(IMPORTANCE)
    for importance in IMPORTANCE:
        x = _LEFT + slot * importance + slot * 0.2
        base = 0
        for valid in _STACKED:
            count = next(
                (r["count"] for r in rows if r["importance"] == importance and r["valid"] == valid),
                0,
            )
            if count:
                top = _y(base + count, ceiling)
                chart.bars.append(
                    Bar(
                        x,
                        top,
                        slot * 0.6,
                        _y(base, ceiling) - top,
                        f"valid-{valid:d}",
                        f"{importance_name} {importance} · {valid_names[valid]}: {count:,}",
                    )
                )
                base += count
        chart.labels.append(
            Label(x + slot * 0.3, HEIGHT - _BOTTOM + 18, f"{importance_name} {importance}")
        )
    return chart


def weekly_chart(
    weeks: list[WeekOfMail], title: str, names: dict[MessageType, str], empty: str
) -> Chart:
    """Mails sent and received per week, side by side; with no mail at all, `empty` says so
    rather than an axis with nothing on it."""
    chart = Chart(title, legend=[(kind.value, names[kind]) for kind in _WEEKLY])
    top_value = max((max(week.sendto, week.receive) for week in weeks), default=0)
    if top_value == 0:
        chart.empty = empty
        return chart
    ceiling, ticks = _scale(top_value)
    chart.ticks = [Label(_LEFT - 6, _y(t, ceiling), f"{t:,}") for t in ticks]
    slot = (WIDTH - _LEFT - _RIGHT) / max(len(weeks), 1)
    for index, week in enumerate(weeks):
        for offset, (kind, count) in enumerate(
            ((MessageType.SENDTO, week.sendto), (MessageType.RECEIVE, week.receive))
        ):
            top = _y(count, ceiling)
            chart.bars.append(
                Bar(
                    _LEFT + slot * index + slot * (0.15 + 0.35 * offset),
                    top,
                    slot * 0.35,
                    _y(0, ceiling) - top,
                    kind.value,
                    f"{week.week:%Y-%m-%d} · {names[kind]}: {count:,}",
                )
            )
        if index % 2 == 0:
            chart.labels.append(
                Label(_LEFT + slot * (index + 0.5), HEIGHT - _BOTTOM + 18, f"{week.week:%m-%d}")
            )
    return chart
