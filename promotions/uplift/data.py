"""Reading a logged experiment from a CSV file into arrays for the uplift models.

Every problem with the input raises ``InputError`` with one line saying what is wrong, before any
model is fitted, so the command can print it and exit with code 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from ..csvinput import InputError, floats, numeric, read_columns

DEFAULT_CONTROL = "control"
OUTCOME_KINDS = ("auto", "binary", "continuous")
#: A text column with more distinct values than this is an id or free text, not a category.
MAX_CATEGORIES = 50


@dataclass(frozen=True)
class Experiment:
    """One row per customer: encoded features, the arm received and the outcome."""

    features: np.ndarray
    feature_names: list[str]
    arms: np.ndarray
    outcome: np.ndarray
    outcome_name: str
    control: str
    binary: bool

    @property
    def treatments(self) -> list[str]:
        """The arms other than the control, in order of first appearance."""
        return [arm for arm in dict.fromkeys(self.arms.tolist()) if arm != self.control]


def encode_features(columns: dict[str, list[str]], names: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Numeric columns as they are (empty cells NaN); text columns one-hot, one column per value."""
    blocks, encoded_names = [], []
    for name in names:
        numbers, not_a_number = floats(columns[name])
        if not_a_number is None:
            if np.isinf(numbers).any():
                raise InputError(f"feature column {name!r} holds an infinite value")
            blocks.append(numbers[:, None])
            encoded_names.append(name)
            continue
        values = np.array([value.strip() for value in columns[name]])
        categories = sorted(set(values.tolist()))
        if len(categories) > MAX_CATEGORIES:
            raise InputError(
                f"text column {name!r} has {len(categories)} distinct values (at most {MAX_CATEGORIES} are "
                "one-hot encoded): leave it out with --exclude"
            )
        blocks.append((values[:, None] == np.array(categories)[None, :]).astype(float))
        encoded_names.extend(f"{name}={category}" for category in categories)
    return np.hstack(blocks), encoded_names


def _outcome(values: list[str], name: str, kind: str) -> tuple[np.ndarray, bool]:
    numbers = numeric(values, name, "outcome column")
    binary = bool(np.isin(numbers, (0.0, 1.0)).all())
    if kind == "binary" and not binary:
        bad = numbers[~np.isin(numbers, (0.0, 1.0))][0]
        raise InputError(f"outcome column {name!r} must hold only 0 and 1 for a binary outcome, found {bad:g}")
    if kind == "continuous":
        binary = False
    return numbers, binary


def load_experiment(
    path: str | Path,
    treatment_col: str,
    outcome_col: str,
    control: str | None = None,
    features: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    outcome_kind: str = "auto",
) -> Experiment:
    """Read and check a logged experiment: one row per customer, the arm and outcome in named columns.

    Features default to every column but the treatment, the outcome and ``exclude``. The outcome is
    binary when it holds only 0 and 1 (``outcome_kind="auto"``), or as ``outcome_kind`` says.
    """
    if outcome_kind not in OUTCOME_KINDS:
        raise InputError(f"outcome kind must be one of {', '.join(OUTCOME_KINDS)}, got {outcome_kind!r}")
    columns = read_columns(path)
    header = list(columns)
    named = [treatment_col, outcome_col, *(features or ()), *exclude]
    missing = [name for name in named if name not in columns]
    if missing:
        raise InputError(f"column {missing[0]!r} not found in {path} (columns: {', '.join(header)})")
    if treatment_col == outcome_col:
        raise InputError("the treatment and the outcome must be different columns")
    if features is None:
        features = [name for name in header if name not in {treatment_col, outcome_col, *exclude}]
    elif {treatment_col, outcome_col} & set(features):
        raise InputError("the features must not include the treatment or the outcome column")
    if not features:
        raise InputError("no feature columns are left")

    arms = np.array([value.strip() for value in columns[treatment_col]])
    values = list(dict.fromkeys(arms.tolist()))
    if len(values) < 2:
        raise InputError(f"treatment column {treatment_col!r} has a single value ({values[0]!r}): nothing to compare")
    control = control or DEFAULT_CONTROL
    if control not in values:
        raise InputError(
            f"control {control!r} is not a value of {treatment_col!r} (values: {', '.join(values)}); "
            "name it with --control"
        )
    outcome, binary = _outcome(columns[outcome_col], outcome_col, outcome_kind)
    matrix, names = encode_features(columns, features)
    return Experiment(matrix, names, arms, outcome, outcome_col, control, binary)


def pair(experiment: Experiment, treatment: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, 0/1 treatment flag and outcome of the rows in ``treatment`` or the control."""
    rows = np.isin(experiment.arms, (treatment, experiment.control))
    flags = (experiment.arms[rows] == treatment).astype(int)
    return experiment.features[rows], flags, experiment.outcome[rows]


def stratified_split(
    treatment: np.ndarray, outcome: np.ndarray, test_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indexes, stratified by treatment and outcome (any positive value for spend)."""
    strata = np.asarray(treatment).astype(int) * 2 + (np.asarray(outcome) > 0)
    indexes = np.arange(strata.size)
    try:
        train, test = train_test_split(indexes, test_size=test_size, random_state=seed, stratify=strata)
    except ValueError as error:
        raise InputError(f"cannot split {strata.size} rows into train and test stratified: {error}") from error
    return np.sort(train), np.sort(test)
