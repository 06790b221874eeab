"""Synthetic datasets in the real on-disk formats MindSpore's readers expect.

Pure standard library (no NumPy), so the same file can be loaded by the smoke
bootstrap inside any child interpreter and used by tests in the parent.

Every image carries a class-dependent signal (a per-class colour level and
stripe pattern) plus uniform noise, so a correct script can learn the labels
and its loss falls like real training.

Formats written:
- CIFAR-10 binary: ``data_batch_1.bin`` ... ``data_batch_5.bin`` and
  ``test_batch.bin``; each record is 1 label byte + 3072 pixel bytes (CHW).
- CIFAR-100 binary: ``train.bin`` and ``test.bin``; each record is
  1 coarse-label byte + 1 fine-label byte + 3072 pixel bytes.
- MNIST / Fashion-MNIST / KMNIST idx: ``train-images-idx3-ubyte``,
  ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
  ``t10k-labels-idx1-ubyte``.
- Image folder: one sub-directory per class holding small PNG files.
"""

from __future__ import annotations

import os
import random
import struct
import zlib
from pathlib import Path
from typing import Iterable, Sequence

CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST_FILES = ("test_batch.bin",)
CIFAR100_TRAIN_FILES = ("train.bin",)
CIFAR100_TEST_FILES = ("test.bin",)
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

#: Default sizes used by the smoke runner: small, but the real layout.
#: MindSpore's CIFAR readers assume 10000 records per file (the dataset size
#: is computed from the file count), so fewer records fail at read time.
DEFAULT_CIFAR_RECORDS_PER_FILE = 10000
DEFAULT_MNIST_TRAIN = 600
DEFAULT_MNIST_TEST = 200
DEFAULT_IMAGES_PER_CLASS = 24

_SIGNAL_MAX = 191  # template bytes lie in [0, 191]
_NOISE_MASK = 0x3F  # noise bytes lie in [0, 63]; sum stays <= 254, no carry
_NOISE_TABLE = bytes(b & _NOISE_MASK for b in range(256))


def _template(label: int, num_classes: int, height: int, width: int, channels: int) -> bytes:
    """A class-specific image (CHW order): colour levels plus stripes."""
    rng = random.Random(1000 + label)
    levels = [rng.randint(20, 150) for _ in range(channels)]
    freq = 1 + (label % 4)
    horizontal = (label // 4) % 2 == 0
    out = bytearray()
    for c in range(channels):
        for y in range(height):
            for x in range(width):
                pos = y if horizontal else x
                stripe = 40 if ((pos * freq) // 4) % 2 == 0 else 0
                out.append(min(_SIGNAL_MAX, levels[c] + stripe))
    return bytes(out)


class _ImageMaker:
    """Makes noisy class images quickly: template + noise via big-int addition."""

    def __init__(self, num_classes: int, height: int, width: int, channels: int, seed: int):
        self.size = height * width * channels
        self.rng = random.Random(seed)
        self.templates = [
            int.from_bytes(_template(k, num_classes, height, width, channels), "big")
            for k in range(num_classes)
        ]

    def image(self, label: int) -> bytes:
        noise = self.rng.randbytes(self.size).translate(_NOISE_TABLE)
        value = self.templates[label] + int.from_bytes(noise, "big")
        return value.to_bytes(self.size, "big")


def _labels(count: int, num_classes: int, rng: random.Random) -> list[int]:
    labels = [i % num_classes for i in range(count)]
    rng.shuffle(labels)
    return labels


def write_cifar10(
    directory: os.PathLike | str,
    *,
    records_per_file: int = DEFAULT_CIFAR_RECORDS_PER_FILE,
    test_records: int | None = None,
    splits: Sequence[str] = ("train", "test"),
    seed: int = 0,
) -> Path:
    """Write CIFAR-10 binary files (5 train batches + 1 test batch).

    ``records_per_file`` records go into each ``data_batch_i.bin``;
    ``test_batch.bin`` gets ``test_records`` (default: ``records_per_file``).
    ``splits`` limits which files are written ("train", "test").
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    maker = _ImageMaker(10, 32, 32, 3, seed)
    rng = random.Random(seed + 1)
    plan = []
    if "train" in splits:
        plan += [(name, records_per_file) for name in CIFAR10_TRAIN_FILES]
    if "test" in splits:
        plan.append((CIFAR10_TEST_FILES[0], records_per_file if test_records is None else test_records))
    for name, count in plan:
        with open(directory / name, "wb") as fh:
            for label in _labels(count, 10, rng):
                fh.write(bytes((label,)))
                fh.write(maker.image(label))
    return directory


def write_cifar100(
    directory: os.PathLike | str,
    *,
    train_records: int = 5 * DEFAULT_CIFAR_RECORDS_PER_FILE,
    test_records: int = DEFAULT_CIFAR_RECORDS_PER_FILE,
    splits: Sequence[str] = ("train", "test"),
    seed: int = 0,
) -> Path:
    """Write CIFAR-100 binary files ``train.bin`` and ``test.bin``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    maker = _ImageMaker(100, 32, 32, 3, seed)
    rng = random.Random(seed + 1)
    plan = []
    if "train" in splits:
        plan.append((CIFAR100_TRAIN_FILES[0], train_records))
    if "test" in splits:
        plan.append((CIFAR100_TEST_FILES[0], test_records))
    for name, count in plan:
        with open(directory / name, "wb") as fh:
            for fine in _labels(count, 100, rng):
                fh.write(bytes((fine // 5, fine)))
                fh.write(maker.image(fine))
    return directory


def write_mnist(
    directory: os.PathLike | str,
    *,
    train_records: int = DEFAULT_MNIST_TRAIN,
    test_records: int = DEFAULT_MNIST_TEST,
    splits: Sequence[str] = ("train", "test"),
    seed: int = 0,
) -> Path:
    """Write MNIST idx files (also the layout of Fashion-MNIST and KMNIST)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    maker = _ImageMaker(10, 28, 28, 1, seed)
    rng = random.Random(seed + 1)
    for usage, count in (("train", train_records), ("test", test_records)):
        if usage not in splits:
            continue
        images_name, labels_name = MNIST_FILES[usage]
        labels = _labels(count, 10, rng)
        with open(directory / images_name, "wb") as fh:
            fh.write(struct.pack(">IIII", 2051, count, 28, 28))
            for label in labels:
                fh.write(maker.image(label))
        with open(directory / labels_name, "wb") as fh:
            fh.write(struct.pack(">II", 2049, count))
            fh.write(bytes(labels))
    return directory


def _png(width: int, height: int, rgb_rows: Iterable[bytes]) -> bytes:
    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row for row in rgb_rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def write_image_folder(
    directory: os.PathLike | str,
    *,
    classes: Sequence[str] | int = 2,
    images_per_class: int = DEFAULT_IMAGES_PER_CLASS,
    size: int = 32,
    extension: str = ".png",
    seed: int = 0,
) -> Path:
    """Write ``directory/<class>/<n><extension>`` PNG images (content is PNG)."""
    directory = Path(directory)
    names = [f"class_{i}" for i in range(classes)] if isinstance(classes, int) else list(classes)
    maker = _ImageMaker(len(names), size, size, 3, seed)
    if not extension.startswith("."):
        extension = "." + extension
    for label, name in enumerate(names):
        sub = directory / name
        sub.mkdir(parents=True, exist_ok=True)
        for n in range(images_per_class):
            chw = maker.image(label)
            plane = size * size
            rows = []
            for y in range(size):
                row = bytearray()
                for x in range(size):
                    i = y * size + x
                    row += bytes((chw[i], chw[plane + i], chw[2 * plane + i]))
                rows.append(bytes(row))
            (sub / f"{n:04d}{extension}").write_bytes(_png(size, size, rows))
    return directory
