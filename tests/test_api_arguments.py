"""The Python API is a library, not a CLI (issue 13, item 14): arguments are checked once, in
the Request; errors are LossCliError subclasses that are also the matching built-in, and
speak of parameters (``target=``), not flags."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest

import losscli
from losscli import losses
from losscli.errors import LossCliError

from .test_outputs import HOUSES
from .test_outputs import losscli as run_losscli

DF = pd.DataFrame({"y": [1.0, 2.0, 3.0], "a": [1.5, 2.0, 2.0], "b": [1.0, 2.5, 3.5]})

CASES: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("losses=None", {"data": DF, "losses": None}, TypeError, r"^losses= takes a string or a list of strings"),
    ("losses=123", {"data": DF, "losses": 123}, TypeError, r"^losses= takes"),
    ("data=None", {"data": None}, TypeError, r"^data= needs a path or a list of paths, a pandas or polars"),
    ("data=bytes", {"data": b"y,a\n1,2\n"}, TypeError, r"^data= takes .*; got builtins.bytes"),
    ("data=[]", {"data": []}, ValueError, r"^data= is empty"),
    ("target=1", {"data": DF, "target": 1}, TypeError, r"^target= takes a string, not int 1$"),
    ("ci=2", {"data": DF, "ci": 2}, ValueError, r"^ci= is a confidence level between 0.5 and 1"),
    ("ci='x'", {"data": DF, "ci": "x"}, TypeError, r"^ci= takes a number, not str 'x'$"),
    ("ci=True", {"data": DF, "ci": True}, TypeError, r"^ci= takes a number, not bool"),
    ("ci=0.1", {"data": DF, "ci": 0.1}, ValueError, r"^ci= is a confidence level"),
    ("bootstrap=-5", {"data": DF, "ci": 0.9, "bootstrap": -5}, ValueError, r"^bootstrap= takes 20 to 100000"),
    ("bootstrap=0", {"data": DF, "ci": 0.9, "bootstrap": 0}, ValueError, r"^bootstrap= takes 20 to 100000"),
    ("bootstrap=10**12", {"data": DF, "ci": 0.9, "bootstrap": 10**12}, ValueError, r"^bootstrap= takes 20"),
    ("seed=-1", {"data": DF, "ci": 0.9, "seed": -1}, ValueError, r"^seed= must be >= 0, not -1$"),
    ("seed=1.5", {"data": DF, "ci": 0.9, "seed": 1.5}, TypeError, r"^seed= takes a whole number"),
    ("preds=5", {"data": DF, "preds": 5}, TypeError, r"^preds= takes a string or a list of strings"),
    ("by=[1]", {"data": DF, "by": [1]}, TypeError, r"^by= takes a string or a list of strings"),
    ("nan=1", {"data": DF, "nan": 1}, TypeError, r"^nan= takes a string"),
    ("workers=1.5", {"data": DF, "workers": 1.5}, TypeError, r"^workers= takes a whole number"),
    ("timeout='x'", {"data": DF, "timeout": "x"}, TypeError, r"^timeout= takes a number"),
    ("losses=['hubr']", {"data": DF, "losses": ["hubr"]}, KeyError, r"unknown loss 'hubr'; did you mean 'huber'"),
]


@pytest.mark.parametrize(("kwargs", "builtin", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_arguments_are_losscli_errors_and_builtins(kwargs: dict[str, Any], builtin: type, message: str) -> None:
    with pytest.raises(LossCliError) as caught:
        losscli.evaluate(**kwargs)
    assert isinstance(caught.value, builtin)
    assert re.search(message, str(caught.value)), str(caught.value)
    assert "--" not in str(caught.value)


def test_except_value_error_works() -> None:
    with pytest.raises(ValueError, match=r"^ci="):
        losscli.evaluate(DF, ci=0.1)


def test_an_unknown_loss_is_a_key_error_with_suggestions() -> None:
    with pytest.raises(KeyError) as caught:
        losses.get("hubr")
    assert isinstance(caught.value, LossCliError)
    assert str(caught.value) == "unknown loss 'hubr'; did you mean 'huber'?"
    assert caught.value.suggestions == ["huber"]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        losses.get(5)  # type: ignore[arg-type]


def test_messages_from_deep_in_the_readers_speak_of_parameters() -> None:
    """The reader says --nan drop on the command line; in Python, nan=."""
    with pytest.raises(ValueError, match=r'pass nan="drop"') as caught:
        losscli.evaluate(pd.DataFrame({"y": [1.0, None], "a": [1.0, 2.0]}), "mse")
    assert "--" not in str(caught.value)


def test_strings_are_one_name_not_letters() -> None:
    got = losscli.evaluate(DF, "mse", preds="a")
    assert list(got["model"]) == ["a"]


def test_paths_may_be_pathlike() -> None:
    assert len(losscli.evaluate(HOUSES, "mse")) == 3


def test_a_negative_seed_on_the_command_line_is_one_sentence() -> None:
    done = run_losscli("eval", HOUSES, "--ci", "0.9", "--seed", "-1")
    assert done.returncode == 2
    assert done.stderr == b"losscli: error: --seed must be >= 0, not -1.\n"
