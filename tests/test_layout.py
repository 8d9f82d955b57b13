"""Column roles: detection, explicit choices, multiclass grouping, task decisions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from losscli.errors import BadValueError, ColumnError, OptionError
from losscli.read.formats import open_source
from losscli.read.layout import resolve_layout
from losscli.read.source import source_from_dataframe
from losscli.spec import parse_specs

from .build import request, run


def layout_of(df: pd.DataFrame, losses: list[str] | None = None, **kwargs):
    return resolve_layout(source_from_dataframe(df), parse_specs(losses or []), request(losses or [], **kwargs))


@pytest.mark.parametrize("name", ["y", "Y_TRUE", "target", "Label", "actual", "truth"])
def test_target_is_detected_case_insensitively(name: str) -> None:
    layout = layout_of(pd.DataFrame({name: [1.0, 2.5], "m": [1.0, 2.0]}))
    assert layout.target == name
    assert "target=" + name + " (auto)" in layout.notes[0]


def test_id_is_excluded_and_non_numeric_columns_are_skipped_with_a_note() -> None:
    df = pd.DataFrame({"id": [1, 2], "region": ["n", "s"], "y": [1.5, 2.0], "a": [1.0, 2.0], "b": [2.0, 1.0]})
    layout = layout_of(df)
    assert [m.name for m in layout.models] == ["a", "b"]
    assert layout.id == "id"
    assert any("skipped non-numeric columns region" in n for n in layout.notes)


def test_weight_named_column_is_not_a_model() -> None:
    df = pd.DataFrame({"y": [1.5, 2.0], "a": [1.0, 2.0], "weight": [1.0, 2.0]})
    layout = layout_of(df)
    assert [m.name for m in layout.models] == ["a"]
    assert layout.weight is None
    assert any("--weight weight" in n for n in layout.notes)


def test_pred_globs_pick_columns_in_file_order() -> None:
    df = pd.DataFrame({"y": [1.5, 2.0], "m_a": [1.0, 2.0], "other": [0.0, 0.0], "m_b": [2.0, 1.0]})
    layout = layout_of(df, preds=["m_*"])
    assert [m.name for m in layout.models] == ["m_a", "m_b"]


def test_task_detection() -> None:
    assert layout_of(pd.DataFrame({"y": [1.5, 2.0], "m": [1.0, 2.0]})).task == "regression"
    assert layout_of(pd.DataFrame({"y": [0, 1, 1], "m": [0.1, 0.8, 0.4]})).task == "binary"
    assert layout_of(pd.DataFrame({"y": [True, False], "m": [0.1, 0.8]})).task == "binary"
    assert layout_of(pd.DataFrame({"y": [-1, 1], "m": [0.1, 0.8]})).task == "binary"
    multi = pd.DataFrame({"y": ["a", "b"], "m.a": [0.9, 0.2], "m.b": [0.1, 0.8]})
    assert layout_of(multi).task == "multiclass"


def test_losses_decide_the_task_over_the_data() -> None:
    # 0/1 targets, but the user asked for a regression loss.
    assert layout_of(pd.DataFrame({"y": [0, 1, 1], "m": [0.1, 0.8, 0.4]}), ["mse"]).task == "regression"


def test_mixing_tasks_is_an_error() -> None:
    with pytest.raises(OptionError, match="do not share a task"):
        layout_of(pd.DataFrame({"y": [0, 1], "m": [0.1, 0.8]}), ["mse", "bce"])


def test_multiclass_groups_models_and_aligns_class_order() -> None:
    df = pd.DataFrame(
        {
            "label": ["x", "z"],
            "a.x": [0.7, 0.1],
            "a.y": [0.2, 0.1],
            "a.z": [0.1, 0.8],
            "b.z": [0.5, 0.6],  # b lists its classes in another order
            "b.x": [0.25, 0.2],
            "b.y": [0.25, 0.2],
        }
    )
    layout = layout_of(df)
    assert layout.classes == ("x", "y", "z")
    assert [m.columns for m in layout.models] == [("a.x", "a.y", "a.z"), ("b.x", "b.y", "b.z")]
    ev = run(source_from_dataframe(df), ["cce"])
    # by hand: a: -(log .7 + log .8)/2, b: -(log .25 + log .6)/2
    assert ev.value("a", "cce") == pytest.approx(-(np.log(0.7) + np.log(0.8)) / 2, rel=1e-12)
    assert ev.value("b", "cce") == pytest.approx(-(np.log(0.25) + np.log(0.6)) / 2, rel=1e-12)


def test_bare_class_columns_are_one_model_named_after_the_file(tmp_path) -> None:
    path = tmp_path / "probs.csv"
    path.write_text("label,cat,dog\ncat,0.9,0.1\ndog,0.4,0.6\n")
    ev = run(open_source(str(path)), ["cce"])
    assert ev.models == ["probs"]
    assert ev.value("probs", "cce") == pytest.approx(-(np.log(0.9) + np.log(0.6)) / 2, rel=1e-12)


def test_integer_targets_index_classes_by_position_or_by_name() -> None:
    by_position = pd.DataFrame({"y": [0, 2], "m.a": [0.5, 0.2], "m.b": [0.3, 0.2], "m.c": [0.2, 0.6]})
    assert run(source_from_dataframe(by_position), ["cce"]).value("m", "cce") == pytest.approx(
        -(np.log(0.5) + np.log(0.6)) / 2
    )
    by_name = pd.DataFrame({"y": [3, 1], "m.1": [0.5, 0.9], "m.3": [0.5, 0.1]})
    assert run(source_from_dataframe(by_name), ["cce"]).value("m", "cce") == pytest.approx(
        -(np.log(0.5) + np.log(0.9)) / 2
    )


def test_models_with_different_classes_are_an_error() -> None:
    df = pd.DataFrame({"y": ["a", "b"], "m.a": [1.0, 0.0], "m.b": [0.0, 1.0], "n.a": [1.0, 0.0], "n.c": [0, 1.0]})
    with pytest.raises(ColumnError, match="every model needs the same classes"):
        layout_of(df)


def test_unknown_class_label_names_row_and_classes() -> None:
    df = pd.DataFrame({"y": ["a", "q"], "m.a": [0.5, 0.5], "m.b": [0.5, 0.5]})
    with pytest.raises(BadValueError, match=r"row 2 holds the label 'q', which is not one of the classes a, b"):
        run(source_from_dataframe(df), ["cce"])


@pytest.mark.parametrize(
    ("df", "kwargs", "message"),
    [
        (pd.DataFrame({"a": [1.0], "b": [2.0]}), {}, "no target column found"),
        (pd.DataFrame({"y": [1.0], "b": [2.0]}), {"target": "nope"}, "--target names the column 'nope'"),
        (pd.DataFrame({"y": [1.0], "b": [2.0]}), {"weight": "w"}, "--weight names the column 'w'"),
        (pd.DataFrame({"y": [1.0], "b": [2.0]}), {"preds": ["z*"]}, "--pred 'z*' matches no column"),
        (pd.DataFrame({"y": [1.0], "s": ["x"]}), {}, "no prediction columns"),
    ],
)
def test_column_errors(df: pd.DataFrame, kwargs: dict, message: str) -> None:
    with pytest.raises(ColumnError, match=message.replace("*", r"\*")):
        layout_of(df, **kwargs)


@pytest.mark.parametrize(
    ("df", "losses", "message"),
    [
        (pd.DataFrame({"y": [1.0, np.nan], "m": [1.0, 2.0]}), ["mse"], "column 'y', row 2 is missing"),
        (pd.DataFrame({"y": [1.0, 2.0], "m": [1.0, np.inf]}), ["mse"], "column 'm', row 2 is inf"),
        (
            pd.DataFrame({"y": [0, 1], "m": [0.5, 1.5]}),
            ["bce"],
            "row 2 holds 1.5, but bce needs probabilities",
        ),
        (pd.DataFrame({"y": [0, 2], "m": [0.5, 0.5]}), ["bce"], "row 2 holds 2; binary losses need labels"),
        (pd.DataFrame({"y": [0, -1, 1], "m": [0.5, 0.5, 0.5]}), ["bce"], "mixes the labels 0 and -1"),
        (pd.DataFrame({"y": [1.0, 2.0], "m": [1.0, 2.0], "w": [1.0, -1.0]}), ["mse"], "negative weight"),
        (pd.DataFrame({"y": [1.0, 2.0], "m": [1.0, 2.0], "w": [0.0, 0.0]}), ["mse"], "sum to zero"),
        (pd.DataFrame({"y": [1.0, 2.0], "m": ["1", "x"]}), ["mse"], "column 'm', row 2 holds 'x'"),
    ],
)
def test_bad_values_name_column_and_row(df: pd.DataFrame, losses: list[str], message: str) -> None:
    weight = "w" if "w" in df else None
    with pytest.raises(BadValueError) as info:
        run(source_from_dataframe(df), losses, weight=weight, preds=["m"])
    assert message in str(info.value)


def test_minus_one_labels_are_the_negative_class() -> None:
    a = run(source_from_dataframe(pd.DataFrame({"y": [-1, 1], "m": [0.2, 0.7]})), ["bce"]).value("m", "bce")
    b = run(source_from_dataframe(pd.DataFrame({"y": [0, 1], "m": [0.2, 0.7]})), ["bce"]).value("m", "bce")
    assert a == b
