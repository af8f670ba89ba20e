"""Hand-designed image features: the classics that came before learned ones.

Every function takes a batch of images and returns one feature row per image,
computed for the whole batch at once (no Python loop over images or pixels):

- :func:`color_histogram` -- where the colours lie on the hue circle;
- :func:`hog` -- histograms of oriented gradients (Dalal and Triggs), matching
  ``skimage.feature.hog`` where the parameters match;
- :func:`extract` -- several of them side by side, ``(N, D1 + D2 + ...)``.

>>> import numpy as np
>>> from nerve import features
>>> images = np.zeros((4, 32, 32, 3), dtype=np.uint8)
>>> features.extract(images, ["hog", "color_histogram"]).shape
(4, 334)
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, Union

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["color_histogram", "hog", "hog_output_size", "extract", "FEATURES", "BLOCK_NORMS"]

BLOCK_NORMS = ("L1", "L1-sqrt", "L2", "L2-Hys")
_EPS = 1e-5  # the block normalisation's guard against division by zero
_HYS_CLIP = 0.2  # L2-Hys clips normalised values at 0.2, then renormalises
_CHUNK_PIXELS = 1 << 16  # hog works through the batch this many pixel values at a time


# --------------------------------------------------------------------------- validation
def _float_dtype(dtype: Any) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from exc
    if dt not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dt}")
    return dt


def _as_image_batch(images: Any, name: str) -> np.ndarray:
    """Check that ``images`` is a real-valued array and return it as a plain ndarray (a
    masked array gives its data, the mask ignored, as ``np.asarray`` reads it)."""
    if isinstance(images, np.ndarray) and type(images) is not np.ndarray:
        images = np.asarray(images)
    if not isinstance(images, np.ndarray):
        try:
            images = np.asarray(images)
        except Exception as exc:  # ragged lists and other non-arrays
            raise TypeError(
                f"{name}: images must be an array, got {type(images).__name__}") from exc
    if images.dtype == bool or not (
        np.issubdtype(images.dtype, np.integer) or np.issubdtype(images.dtype, np.floating)
    ):
        raise TypeError(
            f"{name}: images must have an integer or floating dtype (uint8 or float), "
            f"got {images.dtype}"
        )
    if images.size and np.issubdtype(images.dtype, np.floating):
        if not np.isfinite(images).all():
            raise ValueError(f"{name}: images contain NaN or infinite values")
    return images


def _check_channels_last(images: np.ndarray, name: str, expected: str,
                         channels: tuple[int, ...]) -> None:
    """Refuse a 4-D batch that looks channels-first, (N, C, H, W), saying how to fix it."""
    if images.ndim == 4 and images.shape[1] in channels and images.shape[3] not in channels:
        raise ValueError(
            f"{name} expects channels-last images {expected}; got {images.shape}, which looks "
            "channels-first: use images.transpose(0, 2, 3, 1)")


def _pair(value: Any, what: str) -> tuple[int, int]:
    """An int k means (k, k); otherwise a pair of positive ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value, value)
    if isinstance(value, np.ndarray) and value.shape == (2,) and value.dtype.kind in "iu":
        value = tuple(value.tolist())  # np.array([8, 8]), as scikit-image accepts
    ok = (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    )
    if not ok or min(value) < 1:
        raise ValueError(f"{what} must be a positive int or a pair of positive ints, got {value!r}")
    return int(value[0]), int(value[1])


# --------------------------------------------------------------------------- colour
def _hue(rgb: np.ndarray) -> np.ndarray:
    """Hue in [0, 1) of RGB pixels given channels first, ``(3, ...)``; the H of HSV.

    With M = max(r, g, b), m = min(r, g, b), d = M - m:
    h = ((g - b)/d mod 6)/6 if M = r, ((b - r)/d + 2)/6 if M = g, ((r - g)/d + 4)/6 if M = b,
    and h = 0 for grey pixels (d = 0), the usual convention (matplotlib, scikit-image).
    """
    r, g, b = rgb
    hi = np.maximum(np.maximum(r, g), b)
    d = hi - np.minimum(np.minimum(r, g), b)
    d += d == 0  # grey: the numerator below is 0 as well, so h = 0
    # numerator and sector offset of the channel that holds the maximum (r before g before b)
    num, offset = r - g, np.full_like(hi, 4)
    is_g, is_r = hi == g, hi == r
    np.subtract(b, r, out=num, where=is_g)
    offset[is_g] = 2
    np.subtract(g, b, out=num, where=is_r)
    offset[is_r] = 0
    h = num / d
    h += offset
    h[h < 0] += 6  # (g - b)/d mod 6 when r is the maximum
    h /= 6
    return h


def _levels_per_image(rgb: np.ndarray) -> np.ndarray:
    """Float pixels (3, N, ...) as float64, each image's 8-bit levels replaced by the levels.

    Image by image (axis 1), never across the batch: an image whose values are all
    within 1e-3 of integers u (when its maximum is above 1) or of u/255 becomes those
    integers (hue ignores the common scale), so that it is binned exactly; other
    images are kept as they are.
    """
    work = np.array(rgb, dtype=np.float64, order="C")  # a private copy, changed in place
    n = work.shape[1]
    if work.size == 0:
        return work
    flat = work.reshape(3, n, -1)  # a view: work is C-contiguous
    done = np.zeros(n, dtype=bool)
    for scale, eligible in ((1.0, flat.max(axis=(0, 2)) > 1.0), (255.0, np.ones(n, bool))):
        todo = np.flatnonzero(eligible & ~done)
        if todo.size == 0:
            continue
        scaled = flat[:, todo] * scale
        levels = np.rint(scaled)
        scaled -= levels
        np.abs(scaled, out=scaled)
        ok = (scaled <= 1e-3).all(axis=(0, 2))
        flat[:, todo[ok]] = levels[:, ok]
        done[todo[ok]] = True
    return work


def _hue_bins(rgb: np.ndarray, bins: int) -> np.ndarray:
    """floor(h·bins) of every pixel's hue h (see :func:`_hue`), rgb ``(3, N, ...)``.

    h·bins = bins·q / (6d), with q = numerator + sector offset·d wrapped into [0, 6d):
    integer pixels give the bin in exact integer arithmetic, so a hue exactly on a bin
    edge (0.6 for (171, 181, 196)) lands in the bin above it. So do the float images
    whose pixels are 8-bit levels (u/255 or u, to within 1e-3 of a level; decided per
    image, see :func:`_levels_per_image`); their integer values are exact in float64,
    so the corrected float quotient below is the exact floor for them, and for other
    float pixels it is corrected across an edge it was rounded over.
    """
    if rgb.dtype.kind in "iub":
        whole = np.int32 if bins * 6 * 256 < 2 ** 31 else np.int64  # t below stays in range
        work, exact = rgb.astype(whole), True
    else:
        work, exact = _levels_per_image(rgb), False
    r, g, b = work
    hi = np.maximum(np.maximum(r, g), b)
    d = hi - np.minimum(np.minimum(r, g), b)
    d[d == 0] = 1  # grey: the numerator is 0 as well, so h = 0
    q = r - g  # blue holds the maximum: offset 4
    q += 4 * d
    is_g, is_r = hi == g, hi == r
    np.subtract(b, r, out=q, where=is_g)
    np.add(q, 2 * d, out=q, where=is_g)
    np.subtract(g, b, out=q, where=is_r)  # red: offset 0, the numerator mod 6d
    six_d = 6 * d
    np.add(q, six_d, out=q, where=q < 0)
    t = q * bins
    if exact:
        k = t // six_d
    else:
        k = np.floor(t / six_d)
        k -= k * six_d > t  # the quotient was rounded up over an edge
        k += (k + 1) * six_d <= t  # or down below one
    return k.astype(np.int64) % bins  # % wraps a rounded-up bins back to 0


def color_histogram(images: np.ndarray, bins: int = 10, *, dtype: Any = np.float32) -> np.ndarray:
    """Histogram of hue, normalised by the number of pixels.

    Each pixel's RGB is converted to HSV and its hue h in [0, 1) falls in bin
    floor(h * bins); the counts are divided by H*W, so every row sums to 1
    whatever the image size. Pure red (hue 0) lands in bin 0; grey pixels, whose
    hue is undefined, are counted in bin 0 too (hue 0 by convention).

    Args:
        images: (N, H, W, 3) RGB images, either uint8 (or another integer type)
            in [0, 255] or float in [0, 1] or [0, 255]. Hue only depends on
            the ratios of the channels, so all three give the same result
            (8-bit levels, also stored as u/255 floats, are binned exactly; a hue
            exactly on a bin edge goes to the bin above). Values outside
            [0, 255] are rejected.
        bins: number of equal-width hue bins, >= 1.
        dtype: float32 (default) or float64.

    Returns:
        (N, bins) array of fractions of pixels per hue bin.
    """
    dt = _float_dtype(dtype)
    images = _as_image_batch(images, "color_histogram")
    _check_channels_last(images, "color_histogram", "(N, H, W, 3)", (3,))
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(
            f"color_histogram expects RGB images of shape (N, H, W, 3), got {images.shape}"
            + ("; one image? add a batch axis with images[None]"
               if images.ndim == 3 and images.shape[-1] == 3 else
               "; these look like grayscale images (N, H, W), which have no colour to "
               "histogram" if images.ndim == 3 else "")
        )
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive int, got {bins!r}")
    n, h, w, _ = images.shape
    if h == 0 or w == 0:
        raise ValueError(
            f"color_histogram needs images with at least one pixel, got {images.shape}")
    if images.size and (images.min() < 0 or images.max() > 255):
        raise ValueError(
            "color_histogram expects pixel values in [0, 1] or [0, 255], got values in "
            f"[{images.min()}, {images.max()}]"
        )
    counts = np.empty((n, bins), np.int64)
    step = max(1, (1 << 21) // (h * w))  # images per slice: about 2M pixels at a time
    for start in range(0, n, step):
        part = images[start:start + step]
        idx = _hue_bins(np.moveaxis(part, -1, 0), bins)
        idx += (np.arange(len(part), dtype=np.int64) * bins)[:, None, None]
        counts[start:start + step] = np.bincount(
            idx.ravel(), minlength=len(part) * bins).reshape(len(part), bins)
    return (counts / (h * w)).astype(dt)


# --------------------------------------------------------------------------- HOG
def _centred_gradients(img: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """g_row[y, x] = I[y+1, x] - I[y-1, x] and g_col[y, x] = I[y, x+1] - I[y, x-1].

    Not divided by 2 (the [-1, 0, 1] filter); zero on the first and last row
    (g_row) and column (g_col). Rows and columns are the last two axes of ``img``.
    """
    g_row = np.empty_like(img)
    g_col = np.empty_like(img)
    np.subtract(img[..., 2:, :], img[..., :-2, :], out=g_row[..., 1:-1, :])
    np.subtract(img[..., 2:], img[..., :-2], out=g_col[..., 1:-1])
    g_row[..., 0, :] = g_row[..., -1, :] = 0
    g_col[..., 0] = g_col[..., -1] = 0
    return g_row, g_col


def _dominant_channel(
    g_row: np.ndarray, g_col: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel, the gradient of the channel with the largest magnitude.

    ``g_row``, ``g_col``: (C, N, H, W). Returns g_row, g_col and |g|, each (N, H, W).
    Channels are ranked by g_row^2 + g_col^2, the first one winning ties; where
    two channels come within rounding of a tie they are ranked again by
    hypot(g_row, g_col), which is scikit-image's rule (hypot and the square
    root of the sum can differ in the last bit).
    """
    squared = g_row * g_row
    squared += g_col * g_col
    top, row, col = squared[0].copy(), g_row[0].copy(), g_col[0].copy()
    for c in range(1, squared.shape[0]):  # a loop over the few channels
        better = squared[c] > top
        for kept, candidate in ((top, squared), (row, g_row), (col, g_col)):
            np.copyto(kept, candidate[c], where=better)
    near = top * (1 - 1e-12)
    n_near = (squared[0] >= near).astype(np.int8)
    for c in range(1, squared.shape[0]):
        n_near += squared[c] >= near
    ties = np.nonzero(n_near > 1)
    if ties[0].size:
        tie_row, tie_col = g_row[(slice(None), *ties)], g_col[(slice(None), *ties)]  # (C, k)
        pick = (np.hypot(tie_row, tie_col).argmax(axis=0), np.arange(ties[0].size))
        row[ties], col[ties] = tie_row[pick], tie_col[pick]
        top[ties] = row[ties] ** 2 + col[ties] ** 2
    return row, col, np.sqrt(top)


def _orientation_bins(g_row: np.ndarray, g_col: np.ndarray, orientations: int) -> np.ndarray:
    """Bin index of the unsigned orientation o = atan2(g_row, g_col) in degrees mod 180.

    Bin i holds e_i <= o < e_(i+1) with e_i = i * (180 / orientations) (hard
    assignment). An o that rounds up to the last edge gets ``orientations``, an
    overflow bin that the caller drops, as scikit-image drops such pixels. The
    angle is computed with the same float64 operations as scikit-image, so
    both put a pixel lying on an edge (0, 45, 90 degrees...) in the same bin.
    """
    o = np.arctan2(g_row, g_col)
    np.rad2deg(o, out=o)
    # o % 180 for o in [-180, 180], bit for bit, without np.mod's slow general path
    o += (o < 0) * 180.0
    o -= (o >= 180) * 180.0
    width = 180.0 / orientations
    bins = np.floor(o * (1.0 / width))
    # that product can round across an edge: compare with the edges width * k themselves
    bins -= o < bins * width
    bins += o >= (bins + 1) * width
    np.minimum(bins, orientations, out=bins)
    return bins.astype(np.intp)


def _cell_histograms(
    bins: np.ndarray, magnitude: np.ndarray, orientations: int,
    cell: tuple[int, int], n_cells: tuple[int, int],
) -> np.ndarray:
    """Orientation histograms of every cell, (N, cells_r, cells_c, orientations).

    Each pixel adds its gradient magnitude to its orientation bin in its cell;
    each cell's histogram is then divided by its number of pixels (the mean
    vote per pixel, as scikit-image computes it). No interpolation between
    bins or cells.
    """
    n = bins.shape[0]
    (cr, cc), (ncr, ncc) = cell, n_cells
    width = orientations + 1  # + the overflow bin
    cell_of_pixel = (np.arange(ncr * cr) // cr)[:, None] * ncc + (np.arange(ncc * cc) // cc)
    index = cell_of_pixel * width + (ncr * ncc * width) * np.arange(n)[:, None, None]
    index += bins
    hist = np.bincount(index.ravel(), weights=magnitude.ravel(), minlength=n * ncr * ncc * width)
    return hist.reshape(n, ncr, ncc, width)[..., :orientations] / (cr * cc)


def _normalise_blocks(blocks: np.ndarray, method: str) -> np.ndarray:
    """Normalise each block (the last three axes) of ``blocks``, v -> v / norm.

    L1: v / (|v|_1 + eps); L1-sqrt: sqrt(v / (|v|_1 + eps));
    L2: v / sqrt(|v|_2^2 + eps^2); L2-Hys: L2, clip at 0.2, then L2 again.
    """
    axes = (-3, -2, -1)
    if method in ("L1", "L1-sqrt"):
        out = blocks / (np.abs(blocks).sum(axis=axes, keepdims=True) + _EPS)
        return np.sqrt(out) if method == "L1-sqrt" else out
    out = blocks / np.sqrt((blocks**2).sum(axis=axes, keepdims=True) + _EPS**2)
    if method == "L2-Hys":
        out = np.minimum(out, _HYS_CLIP)
        out /= np.sqrt((out**2).sum(axis=axes, keepdims=True) + _EPS**2)
    return out


def _hog_geometry(
    height: int, width: int, orientations: int, cell: tuple[int, int], block: tuple[int, int],
    one_image_hint: bool = False,
) -> tuple[tuple[int, int], tuple[int, int], int]:
    """Cells, blocks and descriptor length D of an (H, W) image; too small is an error."""
    n_cells = (height // cell[0], width // cell[1])
    n_blocks = (n_cells[0] - block[0] + 1, n_cells[1] - block[1] + 1)
    if min(n_blocks) < 1:
        raise ValueError(
            f"hog: images of {height}x{width} pixels are too small for {block[0]}x{block[1]}-cell "
            f"blocks of {cell[0]}x{cell[1]}-pixel cells; they need at least "
            f"{block[0] * cell[0]}x{block[1] * cell[1]} pixels"
            + (_ONE_IMAGE_HINT if one_image_hint else "")
        )
    return n_cells, n_blocks, n_blocks[0] * n_blocks[1] * block[0] * block[1] * orientations


_ONE_IMAGE_HINT = ("; one (H, W, C) image? hog reads a 3-D array as N grayscale images "
                   "(N, H, W): add a batch axis with images[None]")


def _check_orientations(orientations: Any) -> int:
    if isinstance(orientations, bool) or not isinstance(orientations, (int, np.integer)) \
            or orientations < 1:
        raise ValueError(f"orientations must be a positive int, got {orientations!r}")
    return int(orientations)


def hog_output_size(
    image_shape: tuple[int, int], orientations: int = 9,
    pixels_per_cell: tuple[int, int] = (8, 8), cells_per_block: tuple[int, int] = (2, 2),
) -> int:
    """Length of the HOG vector of an (H, W) image ((H, W, C) too; one int s means s x s).

    n_blocks_r * n_blocks_c * block_r * block_c * orientations with
    n_blocks = H // cell - block + 1 (and likewise for W). An image too small for
    one block raises the ValueError that :func:`hog` raises for it.
    """
    if isinstance(image_shape, (tuple, list, np.ndarray)) and len(image_shape) == 3 \
            and image_shape[-1] in (1, 3, 4):
        image_shape = tuple(image_shape[:2])  # (H, W, C): the channels do not count
    try:
        height, width = _pair(image_shape, "image_shape")
    except ValueError:
        raise ValueError(f"hog_output_size: image_shape must be (H, W) (or one int for a "
                         f"square image) of positive ints, got {image_shape!r}") from None
    orientations = _check_orientations(orientations)
    cell = _pair(pixels_per_cell, "pixels_per_cell")
    block = _pair(cells_per_block, "cells_per_block")
    return _hog_geometry(height, width, orientations, cell, block)[2]


def hog(
    images: np.ndarray,
    orientations: int = 9,
    pixels_per_cell: tuple[int, int] = (8, 8),
    cells_per_block: tuple[int, int] = (2, 2),
    block_norm: str = "L2-Hys",
    *,
    transform_sqrt: bool = False,
    dtype: Any = np.float32,
) -> np.ndarray:
    """Histograms of oriented gradients, one flattened descriptor per image.

    1. (optional, ``transform_sqrt``) I -> sqrt(I), a gamma compression;
    2. centred differences g_row = I[y+1] - I[y-1], g_col = I[x+1] - I[x-1] (zero
       on the image border); for C > 1 channels each pixel keeps the channel
       with the largest magnitude |g| = hypot(g_row, g_col);
    3. each cell of ``pixels_per_cell`` pixels averages |g| into ``orientations``
       bins of the unsigned orientation atan2(g_row, g_col) mod 180 degrees
       (hard binning: each pixel votes for one bin of one cell);
    4. every ``cells_per_block`` window of cells (stride one cell, so blocks
       overlap) is normalised with ``block_norm`` (see ``BLOCK_NORMS``);
    5. the blocks are flattened in (block_r, block_c, cell_r, cell_c, bin) order.

    This is the algorithm of ``skimage.feature.hog`` (the same border handling,
    hard binning, per-pixel mean in each cell, eps = 1e-5 and output order) and
    agrees with it to rounding error (scikit-image sums each cell in float32,
    this function in float64); the defaults here follow Dalal and Triggs
    (2x2-cell blocks) where scikit-image uses 3x3. Pixels beyond the last
    whole cell are ignored. Computed in float64 internally.

    Args:
        images: (N, H, W) grayscale or (N, H, W, C) channels-last images, any
            real dtype and range (non-negative if ``transform_sqrt``).
        orientations: number of orientation bins over [0, 180) degrees.
        pixels_per_cell: (rows, cols) of a cell, or one int for a square cell.
        cells_per_block: (rows, cols) of a block in cells, or one int.
        block_norm: "L1", "L1-sqrt", "L2" or "L2-Hys".
        transform_sqrt: take the square root of the image first.
        dtype: float32 (default) or float64 for the result.

    Returns:
        (N, D) descriptors, D = hog_output_size((H, W), orientations, ...).
    """
    dt = _float_dtype(dtype)
    images = _as_image_batch(images, "hog")
    if images.ndim not in (3, 4):
        raise ValueError(
            "hog expects a batch of images of shape (N, H, W) or (N, H, W, C), got "
            f"{images.shape}" + ("; add a batch axis with images[None]" if images.ndim == 2 else "")
        )
    _check_channels_last(images, "hog", "(N, H, W) or (N, H, W, C)", (1, 3))
    orientations = _check_orientations(orientations)
    if not isinstance(block_norm, str) or block_norm not in BLOCK_NORMS:
        raise ValueError(f"unknown block_norm {block_norm!r}; expected one of {BLOCK_NORMS}")
    if not isinstance(transform_sqrt, (bool, np.bool_)):
        raise TypeError(f"hog: transform_sqrt must be True or False, got {transform_sqrt!r}")
    cell = _pair(pixels_per_cell, "pixels_per_cell")
    block = _pair(cells_per_block, "cells_per_block")
    n, height, width = images.shape[:3]
    if images.ndim == 4 and images.shape[3] == 0:
        raise ValueError(f"hog: images have no channels, shape {images.shape}")
    # (H, W, C) with a colour axis last: probably one image without its batch axis
    one_image = images.ndim == 3 and images.shape[-1] in (1, 3, 4) and images.shape[1] > 4
    _, _, n_out = _hog_geometry(height, width, orientations, cell, block, one_image)
    if one_image:
        warnings.warn(
            f"hog: an array of shape {images.shape} is read as {n} grayscale images of "
            f"{height}x{width} pixels" + _ONE_IMAGE_HINT + "; for N grayscale images "
            "that narrow, pass images[..., None] to silence this", UserWarning, stacklevel=2)
    if transform_sqrt and images.size and images.min() < 0:
        raise ValueError("hog: transform_sqrt=True needs non-negative pixel values")
    out = np.empty((n, n_out), dtype=dt)
    # tens of thousands of pixels at a time keep the temporaries in cache
    step = max(1, _CHUNK_PIXELS // int(np.prod(images.shape[1:])))
    for start in range(0, n, step):
        chunk = images[start:start + step]
        out[start:start + step] = _hog_chunk(chunk, orientations, cell, block, block_norm,
                                             transform_sqrt)
    return out


def _hog_chunk(
    images: np.ndarray, orientations: int, cell: tuple[int, int], block: tuple[int, int],
    block_norm: str, transform_sqrt: bool,
) -> np.ndarray:
    """HOG of a validated batch, (N, D) float64; see :func:`hog`."""
    n, height, width = images.shape[:3]
    n_cells = (height // cell[0], width // cell[1])
    # always a private copy: the square root below is taken in place, and for float64
    # (N, H, W, 1) input a contiguous moveaxis would otherwise be a view of the caller's data
    if images.ndim == 4:  # channels first, so that each channel plane is contiguous
        img = np.array(np.moveaxis(images, -1, 0), dtype=np.float64, order="C", copy=True)
    else:
        img = images.astype(np.float64)
    if transform_sqrt:
        np.sqrt(img, out=img)

    g_row, g_col = _centred_gradients(img)
    # only the pixels inside whole cells vote (the gradient still saw their neighbours)
    crop = (..., slice(0, n_cells[0] * cell[0]), slice(0, n_cells[1] * cell[1]))
    g_row, g_col = g_row[crop], g_col[crop]
    if images.ndim == 4:
        g_row, g_col, magnitude = _dominant_channel(g_row, g_col)
    else:
        magnitude = np.sqrt(g_row * g_row + g_col * g_col)

    bins = _orientation_bins(g_row, g_col, orientations)
    hist = _cell_histograms(bins, magnitude, orientations, cell, n_cells)
    # (N, blocks_r, blocks_c, bins, cell_r, cell_c) -> (N, blocks_r, blocks_c, cell_r, cell_c, bins)
    blocks = sliding_window_view(hist, block, axis=(1, 2)).transpose(0, 1, 2, 4, 5, 3)
    return _normalise_blocks(blocks, block_norm).reshape(n, -1)


# --------------------------------------------------------------------------- extract
FeatureFn = Callable[[np.ndarray], np.ndarray]
FeatureSpec = Union[str, FeatureFn, tuple]

FEATURES: dict[str, FeatureFn] = {"hog": hog, "color_histogram": color_histogram}


def _resolve(spec: FeatureSpec) -> tuple[str, FeatureFn, dict]:
    kwargs: dict = {}
    if isinstance(spec, tuple):
        if len(spec) != 2 or not isinstance(spec[1], dict):
            raise TypeError(
                f"a feature given as a tuple must be (name_or_fn, kwargs), got {spec!r}")
        spec, kwargs = spec
    if isinstance(spec, str):
        if spec not in FEATURES:
            raise ValueError(f"unknown feature {spec!r}; expected one of {sorted(FEATURES)}")
        return spec, FEATURES[spec], kwargs
    if callable(spec):
        return getattr(spec, "__name__", repr(spec)), spec, kwargs
    raise TypeError(
        f"a feature must be a name ({sorted(FEATURES)}), a callable or a (name, kwargs) pair, "
        f"got {type(spec).__name__}"
    )


def extract(
    images: np.ndarray, features: Sequence[FeatureSpec], *, dtype: Any = np.float32
) -> np.ndarray:
    """Compute several features of every image and concatenate them along axis 1.

    Args:
        images: (N, ...) batch handed to each feature function as it is.
        features: names from ``FEATURES`` ("hog", "color_histogram"), callables
            mapping (N, ...) images to (N, D_k) features, or ``(name_or_fn,
            kwargs)`` pairs such as ``("color_histogram", {"bins": 25})``.
        dtype: float32 (default) or float64 for the result.

    Returns:
        (N, D_1 + D_2 + ...) array, the features in the order given.
    """
    dt = _float_dtype(dtype)
    if isinstance(features, (str, tuple)) or callable(features):
        features = [features]
    if not isinstance(features, Sequence):
        raise TypeError("extract: features must be a list of feature names ('hog', "
                        "'color_histogram'), functions or (name, kwargs) pairs, got "
                        f"{type(features).__name__}")
    if len(features) == 0:
        raise ValueError("extract needs at least one feature, e.g. ['hog', 'color_histogram']")
    if isinstance(images, (str, bytes)) or not hasattr(images, "__len__") \
            or np.ndim(images) == 0:
        raise TypeError("extract: images must be an array of N images, shape (N, H, W) or "
                        f"(N, H, W, C), got {type(images).__name__}")
    n = len(images)
    columns = []
    for spec in features:
        name, fn, kwargs = _resolve(spec)
        if fn is hog or fn is color_histogram:
            # the built-ins compute in float64: have them round to the result's dtype once
            kwargs = {"dtype": dt, **kwargs}
        out = np.asarray(fn(images, **kwargs))
        if out.ndim == 1:
            out = out[:, None]
        if out.ndim != 2 or out.shape[0] != n:
            raise ValueError(
                f"feature {name!r} returned shape {out.shape}; expected ({n}, D), "
                "one row per image"
            )
        columns.append(out.astype(dt, copy=False))
    return np.concatenate(columns, axis=1)
