"""losscli: evaluate and compare models under any selection of loss functions.

The library comes first; the ``losscli`` command is one consumer of it.
``evaluate`` and ``advise`` are imported lazily so ``import losscli`` (and ``losscli --help``)
stays fast and does not load pyarrow or pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .api import advise as advise
    from .api import evaluate as evaluate
    from .scoring import score as score


def __getattr__(name: str) -> Any:
    if name in ("evaluate", "advise"):
        from . import api

        return getattr(api, name)
    if name == "score":
        from .scoring import score

        return score
    if name == "losses":
        import importlib

        return importlib.import_module(".losses", __name__)
    raise AttributeError(f"module 'losscli' has no attribute {name!r}")
