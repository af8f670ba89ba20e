"""nerve.features: colour histograms, HOG and extract (known answers, shapes, errors)."""
import numpy as np
import pytest

from nerve import features
from nerve.features import color_histogram, extract, hog, hog_output_size


def _rng(seed=0):
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- colour histogram
def test_color_histogram_rows_sum_to_one_and_ignore_image_size():
    small = _rng().integers(0, 256, size=(3, 4, 4, 3), dtype=np.uint8)
    large = np.repeat(np.repeat(small, 8, axis=1), 8, axis=2)  # the same picture, 64x more pixels
    h_small, h_large = color_histogram(small, bins=12), color_histogram(large, bins=12)
    assert h_small.shape == (3, 12) and h_small.dtype == np.float32
    np.testing.assert_allclose(h_small.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(h_small, h_large, rtol=1e-6)


@pytest.mark.parametrize("rgb, expected_bin", [
    ((255, 0, 0), 0),      # red, hue 0
    ((0, 255, 0), 3),      # green, hue 1/3 -> floor(10/3)
    ((0, 0, 255), 6),      # blue, hue 2/3
    ((255, 255, 0), 1),    # yellow, hue 1/6
    ((128, 128, 128), 0),  # grey: hue undefined, counted as 0
])
def test_color_histogram_known_hues(rgb, expected_bin):
    image = np.empty((1, 5, 7, 3), dtype=np.uint8)
    image[...] = rgb
    hist = color_histogram(image, bins=10)
    expected = np.zeros((1, 10), dtype=np.float32)
    expected[0, expected_bin] = 1.0
    np.testing.assert_array_equal(hist, expected)


def test_color_histogram_counts_fractions_of_pixels():
    image = np.zeros((1, 2, 2, 3), dtype=np.uint8)
    image[0, 0, 0] = (255, 0, 0)    # red
    image[0, 0, 1] = (0, 255, 0)    # green
    image[0, 1, :] = (0, 0, 200)    # two blue pixels
    hist = color_histogram(image, bins=3)
    np.testing.assert_allclose(hist, [[0.25, 0.25, 0.5]])


def test_color_histogram_float_scalings_agree_with_uint8():
    images = _rng(1).integers(0, 256, size=(4, 6, 6, 3), dtype=np.uint8)
    ref = color_histogram(images, bins=8, dtype=np.float64)
    assert ref.dtype == np.float64
    np.testing.assert_allclose(color_histogram(images / 255.0, bins=8, dtype=np.float64), ref)
    np.testing.assert_allclose(color_histogram(images.astype(float), bins=8, dtype=np.float64), ref)


def test_color_histogram_batched_equals_per_image():
    images = _rng(2).random((5, 8, 9, 3))
    batched = color_histogram(images, bins=7)
    for i in range(len(images)):
        np.testing.assert_array_equal(batched[i], color_histogram(images[i:i + 1], bins=7)[0])


@pytest.mark.parametrize("images, kwargs, error, match", [
    (np.zeros((4, 4, 3)), {}, ValueError, r"\(N, H, W, 3\).*batch axis"),
    (np.zeros((5, 16, 16)), {}, ValueError, r"got \(5, 16, 16\); these look like grayscale"),
    (np.zeros((2, 4, 4)), {}, ValueError, r"\(N, H, W, 3\)"),
    (np.zeros((2, 4, 4, 4)), {}, ValueError, r"\(N, H, W, 3\)"),
    (np.full((1, 2, 2, 3), 300.0), {}, ValueError, r"\[0, 255\]"),
    (np.full((1, 2, 2, 3), -0.5), {}, ValueError, r"\[0, 255\]"),
    (np.full((1, 2, 2, 3), np.nan), {}, ValueError, "NaN"),
    (np.zeros((1, 2, 2, 3)), {"bins": 0}, ValueError, "bins"),
    (np.zeros((1, 2, 2, 3), dtype=bool), {}, TypeError, "dtype"),
    (np.zeros((1, 2, 2, 3)), {"dtype": np.int32}, TypeError, "float32 or float64"),
])
def test_color_histogram_rejects_bad_input(images, kwargs, error, match):
    with pytest.raises(error, match=match):
        color_histogram(images, **kwargs)


# --------------------------------------------------------------------------- HOG
@pytest.mark.parametrize("shape, ppc, cpb, orientations", [
    ((32, 32), (8, 8), (2, 2), 9),
    ((32, 32), (4, 4), (3, 3), 8),
    ((37, 29), (8, 8), (2, 2), 9),   # pixels beyond the last whole cell are ignored
    ((24, 40), (6, 8), (1, 2), 6),
])
def test_hog_output_length_formula(shape, ppc, cpb, orientations):
    images = _rng().random((2, *shape))
    out = hog(images, orientations, ppc, cpb)
    blocks_r = shape[0] // ppc[0] - cpb[0] + 1
    blocks_c = shape[1] // ppc[1] - cpb[1] + 1
    expected = blocks_r * blocks_c * cpb[0] * cpb[1] * orientations
    assert out.shape == (2, expected)
    assert hog_output_size(shape, orientations, ppc, cpb) == expected
    assert out.dtype == np.float32


def test_hog_default_length_on_32x32_is_324():
    assert hog(np.zeros((1, 32, 32))).shape == (1, 4 * 9 * 3 * 3)


def test_empty_batches_give_empty_rows():
    assert hog(np.zeros((0, 32, 32))).shape == (0, 324)
    assert color_histogram(np.zeros((0, 4, 4, 3))).shape == (0, 10)
    assert extract(np.zeros((0, 16, 16, 3)), ["hog", "color_histogram"]).shape == (0, 46)


def _cell_mass(images, **kwargs):
    """Total normalised mass per orientation bin (summed over blocks and cells)."""
    out = hog(images, orientations=9, pixels_per_cell=(8, 8), cells_per_block=(1, 1),
              block_norm="L1", dtype=np.float64, **kwargs)
    return out.reshape(len(images), -1, 9).sum(axis=1)


def test_hog_vertical_edge_votes_for_the_horizontal_gradient_bin():
    image = np.zeros((1, 32, 32))
    image[:, :, 13:] = 1.0  # a vertical edge: intensity changes along x only
    mass = _cell_mass(image)[0]
    assert mass[0] > 0  # gradient along +x, orientation 0 degrees
    np.testing.assert_array_equal(mass[1:], 0)


def test_hog_horizontal_edge_votes_for_the_vertical_gradient_bin():
    image = np.zeros((1, 32, 32))
    image[:, 13:, :] = 1.0  # a horizontal edge: the gradient points along y, 90 degrees
    mass = _cell_mass(image)[0]
    assert mass[4] > 0  # bin 4 covers [80, 100)
    np.testing.assert_array_equal(np.delete(mass, 4), 0)


def test_hog_angle_on_a_bin_edge_goes_to_the_upper_bin():
    # with 26 bins, 90 degrees is the edge e_13 = 13 * 180 / 26, and 90 * (26 / 180) rounds
    # to 12.999...: the bin must come from comparing with the edges, not from that product
    image = np.zeros((1, 16, 16))
    image[:, 7:, :] = 1.0
    out = hog(image, 26, (8, 8), (1, 1), "L1", dtype=np.float64).reshape(-1, 26).sum(axis=0)
    assert out[13] > 0
    np.testing.assert_array_equal(np.delete(out, 13), 0)


def test_hog_is_unsigned_dark_to_light_equals_light_to_dark():
    image = np.zeros((1, 32, 32))
    image[:, :, 13:] = 1.0
    np.testing.assert_array_equal(hog(image), hog(1.0 - image))


def test_hog_cell_histogram_known_value():
    # one cell, one block: a ramp I = 2x has g_col = 4 inside and 0 on the two border columns
    ramp = np.tile(2.0 * np.arange(8), (8, 1))[None]
    out = hog(ramp, orientations=4, pixels_per_cell=(8, 8), cells_per_block=(1, 1),
              block_norm="L1", dtype=np.float64)
    mean_vote = 4.0 * 6 * 8 / 64  # 48 pixels of magnitude 4, averaged over the cell's 64
    np.testing.assert_allclose(out, [[mean_vote / (mean_vote + 1e-5), 0, 0, 0]])


@pytest.mark.parametrize("norm", features.BLOCK_NORMS)
def test_hog_block_norms(norm):
    images = _rng(3).random((2, 16, 16))
    out = hog(images, 9, (4, 4), (2, 2), norm, dtype=np.float64).reshape(2, -1, 2 * 2 * 9)
    if norm == "L1":
        np.testing.assert_allclose(out.sum(axis=-1), 1.0, atol=1e-4)
    elif norm == "L1-sqrt":
        np.testing.assert_allclose((out**2).sum(axis=-1), 1.0, atol=1e-4)
    else:
        np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-4)
    if norm == "L2":
        assert out.max() > 0.2  # unclipped; L2-Hys clips before renormalising
    assert (out >= 0).all()


def test_hog_batched_equals_per_image():
    gray = _rng(4).random((6, 20, 24))
    rgb = _rng(5).integers(0, 256, (6, 20, 24, 3), dtype=np.uint8)
    for images in (gray, rgb):
        batched = hog(images, 8, (4, 4), (2, 2), dtype=np.float64)
        for i in range(len(images)):
            np.testing.assert_array_equal(batched[i], hog(images[i:i + 1], 8, (4, 4), (2, 2),
                                                          dtype=np.float64)[0])


def test_hog_rgb_with_equal_channels_equals_grayscale():
    gray = _rng(6).random((3, 16, 16))
    np.testing.assert_array_equal(hog(np.repeat(gray[..., None], 3, axis=-1)), hog(gray))


def test_hog_rgb_uses_the_channel_with_the_strongest_gradient():
    y, x = np.mgrid[:16, :16].astype(float)
    rgb = np.stack([0.1 * y, x, np.zeros_like(x)], axis=-1)[None]  # weak d/dy, strong d/dx
    mass = _cell_mass(np.repeat(np.repeat(rgb, 2, axis=1), 2, axis=2))[0]
    # inside, green's |g| = 2 beats red's 0.2: orientation 0. On the first and last column
    # green's g_col is zero, so red's vertical gradient (90 degrees, bin 4) wins there.
    assert mass[0] > 5 * mass[4] > 0
    np.testing.assert_array_equal(np.delete(mass, [0, 4]), 0)


def _tie_image():
    """At pixel (2, 2) two channels have gradients with the same g_row^2 + g_col^2 = 2993."""
    image = np.zeros((1, 5, 5, 3))
    image[0, 3, 2, 0], image[0, 2, 3, 0] = 28, 47  # g = (28, 47): 30.8 degrees, bin 1
    image[0, 3, 2, 1], image[0, 2, 3, 1] = 52, 17  # g = (52, 17): 71.9 degrees, bin 3
    return image


def test_hog_rgb_near_ties_are_broken_by_hypot():
    # in floating point hypot(52, 17) is one ulp above hypot(28, 47): scikit-image's rule
    # (argmax of hypot) picks channel 1, so the pixel votes in bin 3, not bin 1
    assert np.hypot(52.0, 17.0) > np.hypot(28.0, 47.0)
    out = hog(_tie_image(), 9, (1, 1), (1, 1), "L1", dtype=np.float64).reshape(5, 5, 9)
    assert out[2, 2, 3] > 0.99 and out[2, 2, 1] == 0


def _loop_hog(image, orientations, cell, block, norm):
    """A literal, per-pixel reading of the algorithm, for one (H, W[, C]) image."""
    image = image.astype(float)
    if image.ndim == 2:
        image = image[..., None]
    h, w, channels = image.shape
    ncr, ncc = h // cell[0], w // cell[1]
    hist = np.zeros((ncr, ncc, orientations))
    for r in range(ncr * cell[0]):
        for c in range(ncc * cell[1]):
            best = (-1.0, 0.0, 0.0)
            for ch in range(channels):
                gr = image[r + 1, c, ch] - image[r - 1, c, ch] if 0 < r < h - 1 else 0.0
                gc = image[r, c + 1, ch] - image[r, c - 1, ch] if 0 < c < w - 1 else 0.0
                if np.hypot(gc, gr) > best[0]:
                    best = (np.hypot(gc, gr), gr, gc)
            angle = np.degrees(np.arctan2(best[1], best[2])) % 180
            k = int(angle // (180 / orientations))
            hist[r // cell[0], c // cell[1], min(k, orientations - 1)] += best[0]
    hist /= cell[0] * cell[1]
    out = []
    for br in range(ncr - block[0] + 1):
        for bc in range(ncc - block[1] + 1):
            v = hist[br:br + block[0], bc:bc + block[1]]
            if norm == "L1":
                out.append(v / (np.abs(v).sum() + 1e-5))
            else:
                v = v / np.sqrt((v**2).sum() + 1e-10)
                v = np.minimum(v, 0.2)
                out.append(v / np.sqrt((v**2).sum() + 1e-10))
    return np.concatenate([o.ravel() for o in out])


@pytest.mark.parametrize("channels", [None, 3])
@pytest.mark.parametrize("norm", ["L1", "L2-Hys"])
def test_hog_matches_a_per_pixel_loop(channels, norm):
    shape = (2, 14, 18) if channels is None else (2, 14, 18, channels)
    images = _rng(9).random(shape)
    out = hog(images, 6, (4, 6), (2, 2), norm, dtype=np.float64)
    for i in range(2):
        np.testing.assert_allclose(out[i], _loop_hog(images[i], 6, (4, 6), (2, 2), norm),
                                   atol=1e-12)


def test_hog_transform_sqrt_and_dtypes():
    images = _rng(7).random((2, 16, 16))
    out64 = hog(images, 9, (8, 8), (1, 1), transform_sqrt=True, dtype=np.float64)
    assert out64.dtype == np.float64
    np.testing.assert_allclose(out64, hog(np.sqrt(images), 9, (8, 8), (1, 1),
                                          dtype=np.float64))
    assert hog(images.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("images, kwargs, error, match", [
    (np.zeros((32, 32)), {}, ValueError, r"batch axis"),
    (np.zeros((2, 2, 32, 32, 3)), {}, ValueError, r"\(N, H, W\) or \(N, H, W, C\)"),
    (np.zeros((1, 12, 12)), {}, ValueError, r"too small.*at least 16x16"),
    (np.zeros((1, 32, 32)), {"block_norm": "L3"}, ValueError, r"L2-Hys"),
    (np.zeros((1, 32, 32)), {"orientations": 0}, ValueError, "orientations"),
    (np.zeros((1, 32, 32)), {"pixels_per_cell": (8, 0)}, ValueError, "pixels_per_cell"),
    (np.zeros((1, 32, 32)), {"cells_per_block": "2"}, ValueError, "cells_per_block"),
    (-np.ones((1, 32, 32)), {"transform_sqrt": True}, ValueError, "non-negative"),
    (np.full((1, 32, 32), np.inf), {}, ValueError, "NaN or infinite"),
    (np.zeros((1, 32, 32), dtype=complex), {}, TypeError, "dtype"),
    ("not an image", {}, TypeError, "dtype"),
])
def test_hog_rejects_bad_input(images, kwargs, error, match):
    with pytest.raises(error, match=match):
        hog(images, **kwargs)


@pytest.mark.parametrize("fn, shape, expected", [
    (hog, (2, 3, 32, 32), "(N, H, W) or (N, H, W, C)"),
    (hog, (2, 1, 32, 32), "(N, H, W) or (N, H, W, C)"),
    (color_histogram, (2, 3, 32, 32), "(N, H, W, 3)"),
])
def test_channels_first_images_are_refused_with_the_transpose(fn, shape, expected):
    with pytest.raises(ValueError) as err:
        fn(np.ones(shape))
    assert str(err.value) == (
        f"{fn.__name__} expects channels-last images {expected}; got {shape}, which looks "
        "channels-first: use images.transpose(0, 2, 3, 1)")
    # the suggested fix works
    assert fn(np.ones(shape).transpose(0, 2, 3, 1)).shape[0] == 2


def test_channels_first_is_refused_even_where_the_sizes_would_fit():
    # 1x1-pixel cells make a 3x32 "image" big enough: without the check this silently
    # computed HOG of the wrong axes
    with pytest.raises(ValueError, match="channels-first"):
        hog(np.ones((2, 3, 32, 32)), pixels_per_cell=1, cells_per_block=1)


# --------------------------------------------------------------------------- extract
def test_extract_concatenates_named_and_callable_features():
    images = _rng(8).integers(0, 256, (3, 16, 16, 3), dtype=np.uint8)

    def mean_colour(x):
        return x.reshape(len(x), -1, 3).mean(axis=1)

    out = extract(images, ["hog", ("color_histogram", {"bins": 5}), mean_colour])
    expected = np.hstack([hog(images), color_histogram(images, bins=5), mean_colour(images)])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, expected.astype(np.float32))
    assert extract(images, "color_histogram").shape == (3, 10)


@pytest.mark.parametrize("spec, error, match", [
    (["sift"], ValueError, r"unknown feature 'sift'.*color_histogram.*hog"),
    ([], ValueError, "at least one"),
    ([42], TypeError, "callable"),
    ([("hog", 3)], TypeError, "kwargs"),
    ([lambda x: np.zeros((len(x) + 1, 2))], ValueError, "one row per image"),
])
def test_extract_rejects_bad_specs(spec, error, match):
    with pytest.raises(error, match=match):
        extract(np.zeros((2, 16, 16, 3)), spec)
