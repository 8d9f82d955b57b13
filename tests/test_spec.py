from __future__ import annotations

import pytest

from losscli.errors import LossParameterError, UnknownLossError
from losscli.spec import format_value, parse_spec, parse_specs, split_loss_args


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["mse"], ["mse"]),
        (["mse,mae"], ["mse", "mae"]),
        (["mse", "huber:delta=2"], ["mse", "huber:delta=2"]),
        (["mse,huber:delta=2,mae"], ["mse", "huber:delta=2", "mae"]),
        # a piece with '=' and no ':' continues the loss before it
        (["focal:gamma=2,alpha=0.25,mse"], ["focal:gamma=2:alpha=0.25", "mse"]),
        ([" mse , ,mae "], ["mse", "mae"]),
        # a pasted label keeps its commas between parentheses
        (["bce(eps=auto,label_smoothing=0)"], ["bce(eps=auto,label_smoothing=0)"]),
        (
            ["mse,huber(delta=2),bce(eps=auto,label_smoothing=0),mae"],
            ["mse", "huber(delta=2)", "bce(eps=auto,label_smoothing=0)", "mae"],
        ),
    ],
)
def test_split_loss_args(args: list[str], expected: list[str]) -> None:
    assert split_loss_args(args) == expected


def test_labels_show_given_parameters_only() -> None:
    assert parse_spec("huber").label == "huber"
    assert parse_spec("huber:delta=2").label == "huber(delta=2)"
    assert parse_spec("huber:delta=0.25").label == "huber(delta=0.25)"
    assert parse_spec("huber:delta=2").params == {"delta": 2.0}
    assert parse_spec("huber").params == {"delta": 1.0}


def test_aliases_and_case_resolve_to_the_canonical_loss() -> None:
    assert parse_spec("Mean_Squared_Error").name == "mse"
    assert parse_spec("log-loss").name == "bce"


def test_variants_are_kept_and_duplicates_dropped() -> None:
    specs = parse_specs(["huber", "huber:delta=2", "huber", "huber:delta=2.0"])
    assert [s.label for s in specs] == ["huber", "huber(delta=2)"]


def test_unknown_loss_suggests_close_names() -> None:
    with pytest.raises(UnknownLossError, match=r"did you mean 'huber'\?"):
        parse_spec("hubr")


def test_unknown_loss_without_close_names() -> None:
    with pytest.raises(UnknownLossError, match="unknown loss 'zzzzzz'") as info:
        parse_spec("zzzzzz")
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("huber:delta=-1", "delta must be > 0, got -1"),
        ("huber:delta=0", "delta must be > 0"),
        ("huber:delta=abc", "delta must be a number, got 'abc'"),
        ("huber:delta=nan", "delta must be a finite number > 0, got nan"),
        ("huber:delta=inf", "delta must be a finite number > 0, got inf"),
        ("huber:delta=-inf", "delta must be a finite number > 0, got -inf"),
        ("quantile:alpha=inf", "alpha must be a finite number between 0 and 1, got inf"),
        ("huber:delta", "needs a value"),
        ("huber:beta=1", "has no parameter 'beta' (its parameters: delta)"),
        ("mse:delta=1", "its parameters: none"),
        ("bce:eps=1", "eps must be > 0 and < 1"),
        ("bce:eps=0", "eps must be > 0 and < 1"),  # log(0) of a confident right prediction: nan
        ("huber:delta=2:delta=3", "gives delta twice"),
        ("bce:eps=__import__('os')", "eps must be a number or auto"),
        ("tweedie:power=0.5", "power must be outside (0, 1), got 0.5"),
        ("quantile:alpha=1.5", "alpha must be between 0 and 1, got 1.5"),
        ("mape:percent=maybe", "percent must be true or false, got 'maybe'"),
        ("focal:alpha=2", "alpha must be between 0 and 1, or none, got 2"),
        ("focal:gamma=-1", "gamma must be >= 0, got -1"),
    ],
)
def test_bad_parameters_are_sentences(text: str, message: str) -> None:
    with pytest.raises(LossParameterError) as info:
        parse_spec(text)
    assert message in str(info.value)


def test_words_and_booleans() -> None:
    assert parse_spec("focal:alpha=none").params["alpha"] is None
    assert parse_spec("focal:alpha=0.25").params["alpha"] == 0.25
    assert parse_spec("mape:percent=true").params["percent"] is True
    assert parse_spec("mape:percent=no").params["percent"] is False
    assert parse_spec("mape:percent=yes").label == "mape(percent=true)"
    assert parse_spec("tweedie:power=1.5").params["power"] == 1.5
    assert parse_spec("tweedie:power=-1").params["power"] == -1.0


def test_auto_is_a_word_not_a_number() -> None:
    assert parse_spec("bce:eps=auto").params["eps"] == "auto"
    assert parse_spec("bce:eps=1e-7").params["eps"] == 1e-7


@pytest.mark.parametrize(
    ("value", "text"),
    [(2.0, "2"), (0.5, "0.5"), (1e-7, "1e-07"), (True, "true"), (None, "none"), ("auto", "auto")],
)
def test_format_value(value: object, text: str) -> None:
    assert format_value(value) == text  # type: ignore[arg-type]


def test_a_pasted_label_with_two_parameters_is_one_loss() -> None:
    (spec,) = parse_specs(["bce(eps=auto,label_smoothing=0)"])
    assert spec.label == parse_spec("bce:eps=auto:label_smoothing=0").label
    assert spec.params == parse_spec("bce:eps=auto:label_smoothing=0").params
