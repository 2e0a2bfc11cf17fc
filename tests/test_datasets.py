"""Toy data sets: shapes, dtypes, labels, determinism, split."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from descent_tui.data.datasets import make_dataset, split
from descent_tui.scenario.schema import DataSpec, Network


def spec(**kw) -> DataSpec:
    return msgspec.convert(kw, DataSpec)


@pytest.mark.parametrize("kind, k", [("xor", 2), ("circles", 2), ("moons", 2), ("spiral", 3),
                                     ("blobs", 4)])
def test_classification_sets(kind, k):
    X, y = make_dataset(spec(kind=kind, n=101, classes=k, seed=3))
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    assert set(np.unique(y)) == set(range(k))
    assert np.isfinite(X).all()


@pytest.mark.parametrize("kind", ["sine", "linear"])
def test_regression_sets(kind):
    X, y = make_dataset(spec(kind=kind, n=50, noise=0.0))
    assert X.shape == (50, 1) and y.shape == (50, 1) and y.dtype == np.float64
    expected = np.sin(X) if kind == "sine" else 2 * X + 1
    np.testing.assert_allclose(y, expected)


def test_xor_corners():
    X, y = make_dataset(spec(kind="xor", n=4, noise=0.0))
    assert sorted(map(tuple, X)) == [(-1, -1), (-1, 1), (1, -1), (1, 1)]
    for (a, b), label in zip(X, y, strict=True):
        assert label == int((a > 0) != (b > 0))


def test_deterministic_and_seed_sensitive():
    a = make_dataset(spec(kind="moons", n=30, seed=1))
    b = make_dataset(spec(kind="moons", n=30, seed=1))
    c = make_dataset(spec(kind="moons", n=30, seed=2))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_bce_labels_are_float_column():
    _X, y = make_dataset(spec(kind="circles", n=20), loss="bce")
    assert y.shape == (20, 1) and y.dtype == np.float64 and set(np.unique(y)) <= {0.0, 1.0}


def test_network_spec_uses_its_loss():
    net = msgspec.convert({"loss": "bce", "data": {"kind": "xor", "n": 8},
                           "model": {"layers": [2, 4, 1]}}, Network)
    _X, y = make_dataset(net)
    assert y.shape == (8, 1)


def test_csv(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,label\n1,2,0\n3,4,1\n5,6,1\n")
    s = spec(kind="csv", path="d.csv", features=["b", "a"], label="label")
    X, y = make_dataset(s, tmp_path)
    assert X.shape == (3, 2) and y.dtype == np.int64
    assert sorted(map(tuple, X)) == [(2, 1), (4, 3), (6, 5)]
    X, y = make_dataset(s, tmp_path, loss="mse")
    assert y.shape == (3, 1) and y.dtype == np.float64


def test_split():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    Xt, yt, Xv, yv = split(X, y, 0.2, np.random.default_rng(0))
    assert len(Xt) == 8 and len(Xv) == 2
    assert sorted(np.concatenate([yt, yv])) == list(range(10))
    np.testing.assert_array_equal(Xt[:, 0] / 2, yt)
    Xt, yt, Xv, yv = split(X, y, 0.0, 0)
    assert len(Xt) == 10 and len(Xv) == 0
    Xt, _, Xv, _ = split(X[:1], y[:1], 0.5, 0)
    assert len(Xt) == 1
    with pytest.raises(ValueError):
        split(X, y, 1.0, 0)
