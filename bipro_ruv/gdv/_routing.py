"""Which layout reads a record: Satzart, Sparte, Wagnisart and the Teildatensatz number.

gdv-format.md §1.3: the Satzart (cols 1-4), the Sparte (11-13) for 0210-0299, the Wagnisart
(col 60) for Leben 0220/0221.010, and the Teildatensatz number, whose column differs by
Satzart and Sparte (the tables give it per Teildatensatz, with the columns it is repeated at).
A way to the layouts is ``(column, table)``: the character at ``column`` looked up in
``table``; or ``(-1, function)`` where one column cannot decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from bipro_ruv.gdv.layouts import WAGNISART_GROUPS, Layout

__all__ = ["Route", "route"]

Route = tuple[int, Any]


def route(layouts: Mapping[tuple[str, str, str, int], Layout], satzart: str, sparte: str) -> Route:
    """The way to the layout of a record of this Satzart and Sparte in these layouts."""
    if satzart in ("0220", "0221") and sparte == "010":
        by_group: dict[str, list[Layout]] = {}
        for key, layout in layouts.items():
            if key[0] == satzart and key[1] == sparte:
                by_group.setdefault(key[2], []).append(layout)
        pickers = {group: _picker(sorted(c, key=lambda x: x.part)) for group, c in by_group.items()}

        def leben(text: str) -> Layout | None:
            found = pickers.get(WAGNISART_GROUPS.get(text[59], ""))
            if found is None:
                return None
            column, pick = found
            return pick[text[column]] if column >= 0 else pick(text)  # type: ignore[no-any-return]

        return -1, leben
    candidates = sorted(
        (layout for key, layout in layouts.items() if key[0] == satzart and key[1] == sparte),
        key=lambda x: x.part,
    )
    if not candidates:
        return _ALWAYS_NONE
    return _picker(candidates)


class _Pick(dict[str, "Layout | None"]):
    """Character at the Satznummer column -> layout; any other character -> the default,
    remembered (at most 256 characters), so every lookup after the first is a dict hit."""

    __slots__ = ("default",)

    def __init__(self, items: dict[str, Layout], default: Layout | None) -> None:
        super().__init__(items)
        self.default = default

    def __missing__(self, char: str) -> Layout | None:
        self[char] = self.default
        return self.default


_ALWAYS_NONE: Final = (255, _Pick({}, None))


def _picker(candidates: list[Layout]) -> Route:
    """Find the Teildatensatz by its number, at the column(s) each Teildatensatz states it.

    Where all Teildatensätze put the number in one column (most Satzarten: col 256) one
    dict lookup decides. Otherwise (0220.030: cols 49, 43 and 60, repeated at 249/250)
    every candidate's columns are checked, those with more columns first, so a TD 3 whose
    person number has a ``1`` at col 49 is not taken for a TD 1. A line that matches none
    (old releases leave the number blank) is read as the first Teildatensatz.
    """
    default = candidates[0]
    if len(candidates) == 1:
        return 255, _Pick({}, default)
    columns = {layout.satznummer_column for layout in candidates}
    if len(columns) == 1 and 0 not in columns and not any(layout.repeat_columns for layout in candidates):
        return columns.pop() - 1, _Pick({str(layout.part): layout for layout in candidates}, default)

    marked = [
        (tuple(c - 1 for c in (layout.satznummer_column, *layout.repeat_columns)), str(layout.part), layout)
        for layout in candidates
        if layout.satznummer_column
    ]
    marked.sort(key=lambda item: -len(item[0]))
    unnumbered = [layout for layout in candidates if not layout.satznummer_column]
    fallback = unnumbered[0] if unnumbered else default

    def scan(text: str) -> Layout | None:
        for marks, number, layout in marked:
            if all(text[column] == number for column in marks):
                return layout
        return fallback

    return -1, scan
