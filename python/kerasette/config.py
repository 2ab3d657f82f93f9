"""Engine settings (CPU instruction set, threads, device, build facts) and Keras's global
`image_data_format`, the `data_format` that spatial layers given none use."""

from __future__ import annotations

from kerasette import _engine

_IMAGE_DATA_FORMAT = "channels_last"


def cpu_isa() -> str:
    """The CPU kernel variant in use: "avx512", "avx2" or "generic"."""
    return _engine.cpu_isa()


def supported_cpu_isas() -> list:
    """The kernel variants this processor can run, best last."""
    return list(_engine.supported_cpu_isas())


def set_cpu_isa(name: str) -> None:
    """Selects a kernel variant (the environment variable KERASETTE_ISA does it at import)."""
    _engine.set_cpu_isa(name)


def num_threads() -> int:
    """Threads the engine's OpenMP loops use."""
    return _engine.num_threads()


def set_num_threads(n: int) -> None:
    """Sets the engine's thread count (default: OpenMP's, honouring OMP_NUM_THREADS)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"Expected `n` to be a positive integer. Received: n={n}")
    _engine.set_num_threads(n)


def cuda_built() -> bool:
    """Whether this build of the engine includes the CUDA backend."""
    return _engine.cuda_built


def list_devices() -> list:
    """The devices kerasette can run on: "cpu", then "cuda:0", "cuda:1", ... for each GPU visible
    to this process (CUDA_VISIBLE_DEVICES applies; none in a build without CUDA).

    Example:
        >>> kerasette.config.list_devices()
        ['cpu', 'cuda:0']
    """
    return ["cpu"] + [f"cuda:{i}" for i in range(_engine.cuda_device_count())]


def get_device() -> str:
    """The device models run on: the one given to `set_device`, else the first GPU of a CUDA
    build when one is visible, else "cpu"."""
    return _engine.current_device()


def set_device(device: str) -> None:
    """Runs models on `device`: "cpu", "cuda" (the first GPU) or "cuda:N".

    On a GPU, weights, gradients, optimizer state and activations stay in device memory during
    `fit`; each step copies in only its batch. Models holding a layer that has no CUDA path yet
    raise NotImplementedError naming it (set "cpu" for those). Existing models follow at their
    next `fit`, `evaluate` or `predict`.

    Args:
        device: "cpu", "cuda" or "cuda:N".

    Raises:
        ValueError: for another name, or an index beyond the visible GPUs.
        RuntimeError: for "cuda" when this build has no CUDA backend or no GPU is visible.
    """
    if not isinstance(device, str):
        raise TypeError(f"Expected `device` to be a string. Received: device={device!r}")
    name = device.strip().lower()
    if name == "cpu":
        _engine.set_device("cpu")
        return
    kind, _, index = name.partition(":")
    if kind not in ("cuda", "gpu") or (index and not index.isdigit()):
        raise ValueError(
            f"Expected `device` to be 'cpu', 'cuda' or 'cuda:N'. Received: device={device!r}"
        )
    if not _engine.cuda_built:
        raise RuntimeError(
            "This build of kerasette has no CUDA backend. Reinstall it with "
            "`pip install . -Ccmake.define.KERASETTE_CUDA=ON` on a machine with the CUDA toolkit."
        )
    count = _engine.cuda_device_count()
    if count == 0:
        raise RuntimeError(
            "No CUDA device is visible to this process (check the NVIDIA driver and "
            "CUDA_VISIBLE_DEVICES). Available devices: ['cpu']"
        )
    i = int(index) if index else 0
    if i >= count:
        raise ValueError(
            f"Expected `device` to name a visible GPU, one of {list_devices()[1:]}. "
            f"Received: device={device!r}"
        )
    _engine.set_device(f"cuda:{i}")


def device_info(device: str = None) -> dict:
    """Name and memory of a device (default: the current one), as a dict."""
    device = get_device() if device is None else device
    if device == "cpu":
        return {"device": "cpu", "name": f"CPU ({cpu_isa()})", "threads": num_threads()}
    info = _engine.cuda_device_info(int(device.split(":")[1]) if ":" in device else 0)
    info["device"] = device
    return info


def backend() -> str:
    return "kerasette"


def floatx() -> str:
    return "float32"


def epsilon() -> float:
    return 1e-7


def image_data_format() -> str:
    """The default `data_format` of spatial layers: "channels_last" (Keras's default) or
    "channels_first"."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format: str) -> None:
    """Sets the `data_format` that layers created afterwards with `data_format=None` use.

    Args:
        data_format: "channels_last" or "channels_first".

    Example:
        >>> kerasette.config.set_image_data_format("channels_first")
    """
    global _IMAGE_DATA_FORMAT
    value = str(data_format).lower()
    if value not in {"channels_first", "channels_last"}:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    _IMAGE_DATA_FORMAT = value
