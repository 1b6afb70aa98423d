"""Array backends: which array library the model runs on (NumPy on the CPU, CuPy on a GPU).

The model core (:mod:`simulator.model`) is written against the array API standard and
takes its namespace from its inputs (``array_api_compat.array_namespace``), so the same
code runs on any conforming library. The engine chooses the library once per run:

- ``"numpy"`` (the default): plain NumPy arrays, no wrapping;
- ``"cupy"``: ``array_api_compat.cupy`` on the current CUDA device; an error
  (:class:`BackendUnavailableError`, saying why and how to install CuPy) when CuPy is not
  installed or no CUDA device is usable;
- ``"auto"``: CuPy when it is usable, else NumPy, without an error (the reason is kept in
  :attr:`Backend.note`).

Sampling always stays on the host (STYLE.md §2.5): every block is drawn by NumPy and SciPy,
moved to the device by ``xp.asarray`` in :func:`simulator.engine.build_inputs`, and the
model's outputs come back through :func:`to_host`, the one device-to-host transfer point,
before they are checked, summarized or kept. The *inputs* of the model are therefore
bit-identical on every backend for the same seed; outputs computed on a GPU agree with
NumPy's to float64 rounding (CUDA's ``exp``, ``log`` and ``pow`` and its reduction order
may differ from NumPy's in the last bits), which ``benchmarks/gpu_check.sh`` measures.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Literal, get_args

import numpy as np
from array_api_compat import is_cupy_array
from numpy.typing import NDArray

from simulator._typing import Array

BackendName = Literal["numpy", "cupy", "auto"]
"""What a caller may ask for."""

BACKEND_NAMES: tuple[str, ...] = get_args(BackendName)
"""Every accepted backend name, in the order the CLI lists them."""

GPU_INSTALL = 'pip install "jevons[gpu]" (CUDA 12) or "jevons[gpu-cuda13]" (CUDA 13)'
"""How a user gets CuPy, as the error messages say it."""


class BackendUnavailableError(RuntimeError):
    """The backend asked for cannot run here (CuPy missing, or no usable CUDA device)."""


@dataclass(frozen=True)
class Backend:
    """A resolved array backend.

    Attributes
    ----------
    name : {"numpy", "cupy"}
        The library the model runs on.
    xp : array namespace or None
        The namespace the engine moves the model's inputs to; ``None`` for NumPy (the
        arrays stay plain ``numpy.ndarray``, no copy).
    device : str
        Where the arithmetic runs, in words: ``"cpu"``, or the CUDA device's number, name
        and memory (``"cuda:0, NVIDIA H200, 140 GB"``).
    note : str
        Why ``auto`` chose NumPy (empty otherwise).
    """

    name: Literal["numpy", "cupy"]
    xp: Any
    device: str
    note: str = ""

    def describe(self) -> str:
        """One line for a run's report: the library and the device."""
        return "numpy (cpu)" if self.name == "numpy" else f"cupy ({self.device})"


NUMPY = Backend(name="numpy", xp=None, device="cpu")
"""The default backend."""


@dataclass(frozen=True)
class CupyStatus:
    """Whether CuPy can run here.

    Attributes
    ----------
    usable : bool
        True when CuPy imports, sees a CUDA device, and ran a small kernel on it.
    detail : str
        The device in words when usable (``"cuda:0, NVIDIA H200, 140 GB"``); else why not.
    """

    usable: bool
    detail: str


def probe_cupy() -> CupyStatus:
    """Check, now, whether CuPy can run: import it, count devices, run a tiny kernel.

    The kernel (an elementwise product and a sum of four float64 numbers) also checks that
    CuPy's runtime compiler and the driver work, which an import alone does not. The first
    call initializes CUDA (about a second); :func:`cupy_status` caches the answer.

    Returns
    -------
    CupyStatus
    """
    try:
        import cupy
    except Exception as exc:  # noqa: BLE001 - ImportError, or a broken install's own error
        return CupyStatus(False, f"CuPy is not installed ({_one_line(exc)})")
    try:
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # noqa: BLE001 - CUDARuntimeError: no driver, no device
        return CupyStatus(False, f"no CUDA device is usable ({_one_line(exc)})")
    if count < 1:
        return CupyStatus(False, "no CUDA device is usable (CUDA sees 0 devices)")
    try:
        x = cupy.arange(4, dtype=cupy.float64)
        total = float((x * 2.0).sum())
        device = int(cupy.cuda.Device().id)
        props = cupy.cuda.runtime.getDeviceProperties(device)
    except Exception as exc:  # noqa: BLE001 - out of memory, no NVRTC, old driver
        return CupyStatus(False, f"CuPy could not run a kernel on the GPU ({_one_line(exc)})")
    if total != 12.0:  # pragma: no cover - a broken device
        return CupyStatus(False, f"CuPy computed 2 * (0 + 1 + 2 + 3) = {total}, not 12")
    raw = props.get("name", b"")
    name = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    memory = float(props.get("totalGlobalMem", 0)) / 1e9
    return CupyStatus(True, f"cuda:{device}, {name}, {memory:.0f} GB")


@functools.cache
def cupy_status() -> CupyStatus:
    """:func:`probe_cupy`, once per process."""
    return probe_cupy()


def cupy_namespace() -> Any:
    """The array-API namespace of CuPy (``array_api_compat.cupy``)."""
    import array_api_compat.cupy

    return array_api_compat.cupy


def resolve_backend(name: str) -> Backend:
    """The backend a name asks for, checked usable.

    Parameters
    ----------
    name : {"numpy", "cupy", "auto"}
        ``auto`` is CuPy when a CUDA device is usable, else NumPy.

    Returns
    -------
    Backend

    Raises
    ------
    BackendUnavailableError
        If ``name`` is ``"cupy"`` and CuPy is not installed or no CUDA device is usable.
    ValueError
        If ``name`` is not a backend name.
    """
    if name not in BACKEND_NAMES:
        msg = f"backend must be one of {', '.join(BACKEND_NAMES)}; got {name!r}"
        raise ValueError(msg)
    if name == "numpy":
        return NUMPY
    status = cupy_status()
    if status.usable:
        return Backend(name="cupy", xp=cupy_namespace(), device=status.detail)
    if name == "auto":
        return Backend(name="numpy", xp=None, device="cpu", note=f"CuPy not used: {status.detail}")
    msg = (
        f"the cupy backend cannot run here: {status.detail}; it needs an NVIDIA GPU with "
        f"its driver, and CuPy: {GPU_INSTALL}"
    )
    raise BackendUnavailableError(msg)


def namespace_for(backend: str | None = None, xp: Any = None) -> tuple[Any, str]:
    """The namespace a run moves its inputs to, from the engine's ``backend`` and ``xp``.

    Parameters
    ----------
    backend : {"numpy", "cupy", "auto"} or None
        A backend name (see :func:`resolve_backend`).
    xp : array namespace or None
        An explicit namespace (e.g. ``array_api_strict`` in tests); exclusive with
        ``backend``.

    Returns
    -------
    xp : array namespace or None
        None for NumPy.
    name : str
        The library in words for the result's metadata: ``"numpy"``, ``"cupy"``, or the
        module name of an explicit ``xp``.

    Raises
    ------
    ValueError
        If both are given, or ``backend`` is not a backend name.
    BackendUnavailableError
        As :func:`resolve_backend`.
    """
    if backend is not None and xp is not None:
        msg = f"give backend= or xp=, not both (backend={backend!r}, xp={xp!r})"
        raise ValueError(msg)
    if backend is not None:
        chosen = resolve_backend(backend)
        return chosen.xp, chosen.name
    if xp is None or xp is np:
        return None, "numpy"
    module = str(getattr(xp, "__name__", type(xp).__name__))
    return xp, module.removeprefix("array_api_compat.")


def to_host(a: Array) -> NDArray[np.float64]:
    """A model output as a NumPy array on the host: the engine's device-to-host transfer.

    NumPy arrays are returned as they are (no copy); a CuPy array is copied from the device
    once (``.get()``); arrays of another CPU namespace (``array_api_strict``) are read
    through the buffer protocol.

    Parameters
    ----------
    a : array
        An array of any supported namespace.

    Returns
    -------
    numpy.ndarray
    """
    if isinstance(a, np.ndarray):
        return a
    if is_cupy_array(a):
        out: NDArray[np.float64] = a.get()
        return out
    return np.asarray(a)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."


__all__ = [
    "BACKEND_NAMES",
    "GPU_INSTALL",
    "NUMPY",
    "Backend",
    "BackendName",
    "BackendUnavailableError",
    "CupyStatus",
    "cupy_status",
    "namespace_for",
    "probe_cupy",
    "resolve_backend",
    "to_host",
]
