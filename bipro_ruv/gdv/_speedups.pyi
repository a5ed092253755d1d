"""Type stub of the compiled field decoder (``_speedups.c``)."""

from collections.abc import Callable
from typing import Any, Final

SOURCE_SHA256: Final[str]
"""SHA-256 of the ``_speedups.c`` it was built from (set by the build hook)."""
K_MEMO: Final[int]
K_TEXT: Final[int]
K_NUM: Final[int]
K_AMOUNT: Final[int]
K_DATE: Final[int]

class Decoder:
    def __call__(self, text: str, /) -> Any: ...

def decoder(
    cls: type[tuple[Any, ...]],
    fields: tuple[tuple[int, int, int, int, int, int, dict[str, Any]], ...],
    fallback: Callable[[str], Any],
    /,
) -> Decoder: ...
