import importlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import kerasette

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name: str):
    """An example script as a module (its models are the ones the tests and benchmarks use)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    return importlib.import_module(name)


def shared_path(*parts) -> Path:
    """A file under ../shared, or a skip with the reason when that folder is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is not available (the ../shared folder sits beside a kerasette "
                    "checkout in CI and on developer machines, not in a user's clone)")
    return path


@pytest.fixture(params=kerasette.config.supported_cpu_isas())
def each_isa(request):
    """Runs a test once per kernel variant this processor supports."""
    before = kerasette.config.cpu_isa()
    kerasette.config.set_cpu_isa(request.param)
    yield request.param
    kerasette.config.set_cpu_isa(before)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def load_mnist_split():
    """The shared MNIST digits: first 8,000 to train, last 2,000 to test, pixels in [0, 1]."""
    from kerasette.datasets import mnist

    folder = shared_path("data", "mnist")
    _, (x, y) = mnist.load_data(path=str(folder))
    x = x.astype("float32") / 255.0
    return (x[:8000], y[:8000]), (x[8000:], y[8000:])


os.environ.setdefault("KERASETTE_TEST", "1")
