"""nerve.features.hog agrees with skimage.feature.hog where the parameters match."""
import numpy as np
import pytest

skimage_feature = pytest.importorskip("skimage.feature")

from nerve.features import hog  # noqa: E402

PARAMS = [  # orientations, pixels_per_cell, cells_per_block, block_norm
    (9, (8, 8), (2, 2), "L2-Hys"),
    (9, (8, 8), (3, 3), "L1"),
    (8, (4, 4), (2, 2), "L2"),
    (12, (6, 6), (2, 2), "L1-sqrt"),
    (7, (5, 3), (2, 3), "L2-Hys"),   # odd, non-square cells and blocks
    (4, (4, 8), (1, 1), "L1"),       # 45-degree bin edges
    (26, (8, 8), (1, 1), "L2"),      # 90 degrees is an edge that rounds below 13 bins
]


def _structured(n, channels):
    """Edges, a diagonal, a disc, a checkerboard and a ramp: many gradients lie exactly on
    bin edges (0, 45, 90 degrees), where a different angle computation would disagree."""
    y, x = np.mgrid[:32, :32].astype(float)
    shapes = [
        (x > 12) * 200.0,
        (y > 20) * 50.0,
        (x + y > 30) * 1.0,
        ((x - 15) ** 2 + (y - 17) ** 2 < 80) * 255.0,
        ((x // 4 + y // 4) % 2) * 9.0,
        3.0 * x + 0.5 * y,
    ]
    images = np.stack([shapes[i % len(shapes)] for i in range(n)])
    if channels:
        # channel 0 and 2 tie everywhere, channel 1 is weaker: the first channel wins ties
        images = np.stack([images, 0.5 * images[:, ::-1], images], axis=-1)
    return images


def _images(kind, channels):
    rng = np.random.default_rng(0)
    shape = (6, 32, 32) + ((3,) if channels else ())
    if kind == "random":
        return rng.random(shape)
    if kind == "uint8":
        return rng.integers(0, 256, shape, dtype=np.uint8)
    return _structured(6, channels)


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: f"{p[0]}-{p[1]}-{p[2]}-{p[3]}")
@pytest.mark.parametrize("channels", [None, 3], ids=["gray", "rgb"])
@pytest.mark.parametrize("kind", ["random", "uint8", "structured"])
def test_hog_equals_skimage(kind, channels, params):
    orientations, ppc, cpb, norm = params
    images = _images(kind, channels)
    ours = hog(images, orientations, ppc, cpb, norm, dtype=np.float64)
    theirs = np.stack([
        skimage_feature.hog(image, orientations=orientations, pixels_per_cell=ppc,
                            cells_per_block=cpb, block_norm=norm,
                            channel_axis=-1 if channels else None)
        for image in images
    ]).astype(np.float64)
    assert ours.shape == theirs.shape
    # scikit-image sums each cell in float32, nerve in float64: agreement to ~1e-7
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def test_hog_equals_skimage_on_odd_sizes_and_sqrt():
    images = np.random.default_rng(1).random((3, 37, 29, 3))
    ours = hog(images, 9, (8, 8), (2, 2), "L2-Hys", transform_sqrt=True, dtype=np.float64)
    theirs = np.stack([
        skimage_feature.hog(image, 9, (8, 8), (2, 2), "L2-Hys", transform_sqrt=True,
                            channel_axis=-1)
        for image in images
    ])
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def test_default_float32_output_is_close_to_skimage():
    images = np.random.default_rng(2).integers(0, 256, (4, 32, 32), dtype=np.uint8)
    theirs = np.stack([skimage_feature.hog(image, cells_per_block=(2, 2)) for image in images])
    np.testing.assert_allclose(hog(images), theirs, rtol=0, atol=1e-6)


def test_hog_channel_near_tie_matches_skimage():
    # two channels whose gradients have equal squared norms but hypot values one ulp apart
    image = np.zeros((8, 8, 3))
    image[3, 2, 0], image[2, 3, 0] = 28, 47
    image[3, 2, 1], image[2, 3, 1] = 52, 17
    ours = hog(image[None], 9, (1, 1), (1, 1), "L1", dtype=np.float64)[0]
    theirs = skimage_feature.hog(image, 9, (1, 1), (1, 1), "L1", channel_axis=-1)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)


def test_hue_matches_skimage_rgb2hsv():
    color = pytest.importorskip("skimage.color")
    from nerve.features import _hue

    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    images[0] = images[0, ..., :1]             # grey pixels
    images[1, ..., 1] = images[1, ..., 0]      # red and green tie for the maximum
    ours = _hue(np.moveaxis(images.astype(np.float64), -1, 0))
    theirs = np.stack([color.rgb2hsv(image)[..., 0] for image in images])
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
