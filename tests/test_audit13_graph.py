"""Audit 13, finding 3: draw_graph's own SVG layout.

Every edge is visible end to end (it never runs under a box, so a long edge cannot read
as a chain through the boxes it skips), every label fits its box, the two edges of
x * x are two distinct arrows, and a big graph is still drawn in linear time.
"""
import bisect
import re
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nerve as nv
from nerve import nn

NS = "{http://www.w3.org/2000/svg}"
PAD = 8  # px between a box's border and its text, as the drawing promises


def parse(svg):
    """Boxes [(x, y, w, h, title)], arrows and trunks [[(x, y), ...]] (a trunk: the shared
    start of the edges from one node that skip columns; they branch off it), and texts
    [(x, y, text, bold)]."""
    root = ET.fromstring(svg)
    titles = [(float(t.get("x")), float(t.get("y")), t.text)
              for t in root.findall(f"{NS}text") if t.get("font-weight")]
    boxes = []
    for r in root.findall(f"{NS}rect"):
        x, y, w, h = (float(r.get(k)) for k in ("x", "y", "width", "height"))
        title = [s for tx, ty, s in titles if x < tx < x + w and y < ty < y + h]
        boxes.append((x, y, w, h, title[0] if len(title) == 1 else ""))
    arrows, trunks = [], []
    for ln in root.findall(f"{NS}line"):
        assert ln.get("marker-end")
        arrows.append([(float(ln.get("x1")), float(ln.get("y1"))),
                       (float(ln.get("x2")), float(ln.get("y2")))])
    for p in root.findall(f"{NS}path"):
        d = p.get("d")
        assert re.fullmatch(r"M[\d.]+,[\d.]+( L[\d.]+,[\d.]+)+", d), d
        points = [tuple(map(float, xy.split(","))) for xy in re.findall(r"[\d.]+,[\d.]+", d)]
        (arrows if p.get("marker-end") else trunks).append(points)
    texts = [(float(t.get("x")), float(t.get("y")), t.text or "", bool(t.get("font-weight")))
             for t in root.findall(f"{NS}text")]
    return boxes, arrows, trunks, texts


def crosses_interior(p, q, box, inset=1.0):
    """Whether segment p-q meets the box shrunk by ``inset`` (Liang-Barsky clipping)."""
    x, y, w, h = box[:4]
    lo_x, hi_x, lo_y, hi_y = x + inset, x + w - inset, y + inset, y + h - inset
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, lo, hi, start in ((dx, lo_x, hi_x, p[0]), (dy, lo_y, hi_y, p[1])):
        if d == 0:
            if not lo < start < hi:
                return False
            continue
        a, b = (lo - start) / d, (hi - start) / d
        a, b = min(a, b), max(a, b)
        t0, t1 = max(t0, a), min(t1, b)
        if t0 >= t1:
            return False
    return True


def on_side(pt, box, side):
    x, y, w, h = box[:4]
    edge_x = x + w if side == "right" else x
    return abs(pt[0] - edge_x) < 0.11 and y < pt[1] < y + h


def box_at(boxes, pt, side):
    found = [b for b in boxes if on_side(pt, b, side)]
    return found[0] if len(found) == 1 else None


def source(boxes, trunks, arrow):
    """The box an arrow comes from: where it starts, or where the trunk it branches off
    starts (None: nowhere)."""
    start = box_at(boxes, arrow[0], "right")
    if start is not None:
        return start
    for t in trunks:
        if arrow[0] in t[1:]:
            return box_at(boxes, t[0], "right")
    return None


def assert_every_edge_visible(svg, n_edges=None):
    """Every arrow runs from a box (or a trunk from a box) to a box, and no stroke runs
    under any box. Returns the boxes and [(source box, target box, arrow)]."""
    boxes, arrows, trunks, _ = parse(svg)
    if n_edges is not None:
        assert len(arrows) == n_edges
    edges = []
    for arrow in arrows:
        src, dst = source(boxes, trunks, arrow), box_at(boxes, arrow[-1], "left")
        assert src is not None and dst is not None, arrow
        edges.append((src, dst, arrow))
    for t in trunks:
        assert box_at(boxes, t[0], "right") is not None, t
    by_x = sorted(boxes)
    xs = [b[0] for b in by_x]
    widest = max(b[2] for b in boxes)
    for stroke in arrows + trunks:
        for p, q in zip(stroke, stroke[1:]):  # against the boxes its x-range meets
            lo = bisect.bisect_left(xs, min(p[0], q[0]) - widest)
            hi = bisect.bisect_right(xs, max(p[0], q[0]))
            hit = [b[4] for b in by_x[lo:hi] if crosses_interior(p, q, b)]
            assert not hit, f"edge segment {p}->{q} runs under {hit}"
    return boxes, edges


def box_of(boxes, title):
    found = [b for b in boxes if b[4] == title]
    assert len(found) == 1, (title, [b[4] for b in boxes])
    return found[0]


def sigmoid_neuron():
    """The README's example."""
    w = nv.tensor([2.0, -3.0, -3.0], requires_grad=True)
    x = nv.tensor([-1.0, -2.0])
    f = (w[0] * x[0] + w[1] * x[1] + w[2]).sigmoid()
    f.backward()
    return f, w


def test_the_readme_neuron_draws_every_edge_end_to_end():
    f, w = sigmoid_neuron()
    svg = nv.draw_graph(f, format="svg", names={w: "w"})
    boxes, edges = assert_every_edge_visible(svg, n_edges=12)
    # w -> w[2] (GetItem, -3) skips three columns: it runs from w's box to the GetItem
    # that holds -3 alone, not as a line hidden under "input" and "Mul".
    wbox = box_of(boxes, "w: leaf")
    getitems = [b for b in boxes if b[4] == "GetItem"]
    assert len(getitems) == 3  # w[0], w[1] and w[2]: w[2] is the rightmost
    far = max(getitems, key=lambda b: b[0])
    assert [src for src, dst, _ in edges if dst == far] == [wbox]
    assert sorted(dst[0] for src, dst, _ in edges if src == wbox) == sorted(b[0] for b in getitems)
    # and the picture holds no edge that does not exist: the GetItem boxes get theirs from
    # w only, each Mul from a GetItem and an input
    for src, dst, _ in edges:
        if dst[4] == "GetItem":
            assert src == wbox
        if dst[4] == "Mul":
            assert src[4] in ("GetItem", "input")


@pytest.mark.parametrize("make", ["neuron", "demo", "model", "shared", "lanes"])
def test_no_edge_passes_under_a_box(make):
    if make == "neuron":
        f, w = sigmoid_neuron()
        root, names = f, {w: "w"}
    elif make == "demo":  # nerve demo backprop's second figure
        from nerve.demos.backprop import _sigmoid_neuron
        import io
        _, root, names = _sigmoid_neuron(io.StringIO())
    elif make == "model":  # an unfused MLP with batch norm and an L2 penalty by hand
        nv.manual_seed(0)
        m = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 8),
                          nn.ReLU(), nn.Linear(8, 3))
        m.fuse = False
        root = nn.CrossEntropyLoss()(m(np.random.default_rng(0).normal(size=(6, 4))
                                       .astype(np.float32)), np.array([0, 1, 2, 0, 1, 2]))
        for p in m.parameters():
            root = root + 0.01 * (p * p).sum()
        root.backward()
        names = None
    elif make == "shared":  # one weight shared by 100 steps: one trunk, 100 branches
        W = nv.tensor(0.5, requires_grad=True)
        root = nv.tensor(0.0)
        for t in range(100):
            root = (root * W + float(t)).tanh()
        names = {W: "W"}
    else:  # 20 inputs used at both ends of a 600-step chain: more trunks than the
        # waypoint budget allows, so some edges go round along lanes above the boxes
        vs = [nv.tensor(float(i), requires_grad=True) for i in range(20)]
        root = nv.tensor(0.0)
        for v in vs:
            root = root + v
        for _ in range(600):
            root = root * 1.0001
        for v in vs:
            root = root + v
        names = {v: f"v{i}" for i, v in enumerate(vs)}
    svg = nv.draw_graph(root, format="svg", names=names)
    n_edges = nv.draw_graph(root, format="dot").count("->")
    boxes, edges = assert_every_edge_visible(svg, n_edges=n_edges)
    if make == "shared":  # each step's Mul gets W from W's box
        wbox = box_of(boxes, "W: leaf")
        assert sum(1 for src, dst, _ in edges if src == wbox and dst[4] == "Mul") == 100
    if make == "lanes":
        top = min(b[1] for b in boxes)
        assert any(min(y for _, y in e) < top for _, _, e in edges)  # some went round
        for i in range(20):
            vbox = box_of(boxes, f"v{i}: leaf")
            assert sorted(dst[4] for src, dst, _ in edges if src == vbox) == ["Add", "Add"]


def test_fan_out_into_one_gate_shows_two_distinct_arrows():
    x = nv.tensor(3.0, dtype=nv.float64, requires_grad=True)
    y = nv.tensor(-2.0, dtype=nv.float64, requires_grad=True)
    a = (x * y).retain_grad()
    b = (x * x).retain_grad()
    f = a + b
    f.backward()
    names = {x: "x", y: "y", a: "a=x*y", b: "b=x*x", f: "f"}
    boxes, edges = assert_every_edge_visible(nv.draw_graph(f, format="svg", names=names), 6)
    xbox, bbox = box_of(boxes, "x: leaf"), box_of(boxes, "b=x*x: Mul")
    both = [e for src, dst, e in edges if src == xbox and dst == bbox]
    assert len(both) == 2
    # two separate arrows: they leave x and enter Mul at points at least 5 px apart
    assert abs(both[0][0][1] - both[1][0][1]) >= 5
    assert abs(both[0][-1][1] - both[1][-1][1]) >= 5
    # DOT (which Graphviz lays out itself) is as it was: both edges listed
    dot = nv.draw_graph(f, names=names)
    assert dot.count(f"n{id(x)} -> n{id(b)};") == 2


def test_every_label_fits_its_box():
    f, w = sigmoid_neuron()
    long_name = "a rather long name for the weights " * 3
    for svg in (nv.draw_graph(f, format="svg", names={w: "w"}),
                nv.draw_graph(f, format="svg", names={w: long_name})):
        boxes, _, _, texts = parse(svg)
        assert len(texts) == 3 * len(boxes)
        for x, y, s, bold in texts:
            box = [b for b in boxes if b[0] <= x < b[0] + b[2] and b[1] < y < b[1] + b[3]]
            assert len(box) == 1, (s, x, y)
            # starts inside, its baseline and descenders too
            assert x - box[0][0] >= PAD - 0.01 and y + 4 <= box[0][1] + box[0][3]
    # The rendered width in DejaVu Sans (the usual sans-serif, wider than Helvetica and
    # Arial), measured by matplotlib (the test extra)
    mpl_font = pytest.importorskip("matplotlib.font_manager")
    from matplotlib.ft2font import FT2Font
    fonts = {bold: FT2Font(mpl_font.findfont(mpl_font.FontProperties(
        family="DejaVu Sans", weight="bold" if bold else "normal"))) for bold in (False, True)}
    for font in fonts.values():
        font.set_size(11, 72)  # 11 px
    for x, y, s, bold in texts:
        fonts[bold].set_text(s)  # hinted, as a renderer snapping glyphs to pixels draws it
        rendered = fonts[bold].get_width_height()[0] / 64
        box = [b for b in boxes if b[0] <= x < b[0] + b[2] and b[1] < y < b[1] + b[3]][0]
        assert x + rendered <= box[0] + box[2] - 1, (s, rendered, box)


def test_a_label_too_long_for_any_box_is_cut_and_kept_in_the_tooltip():
    f, w = sigmoid_neuron()
    name = "w" * 300
    svg = nv.draw_graph(f, format="svg", names={w: name})
    root = ET.fromstring(svg)
    titles = [t.text for t in root.findall(f"{NS}text") if t.get("font-weight")]
    cut = [t for t in titles if t.startswith("www")]
    assert len(cut) == 1 and cut[0].endswith("…") and len(cut[0]) < 150
    tips = [r.find(f"{NS}title").text for r in root.findall(f"{NS}rect")]
    assert any(tip.startswith(f"{name}: leaf\n") for tip in tips)
    widths = [float(r.get("width")) for r in root.findall(f"{NS}rect")]
    assert max(widths) <= 500


def test_grad_dash_explains_itself_and_the_seed_shows_with_retain_grad():
    x = nv.tensor(-2.0, requires_grad=True)
    y = nv.tensor(5.0, requires_grad=True)
    z = nv.tensor(-4.0, requires_grad=True)
    f = (x + y) * z
    f.backward()
    tips = [r.find(f"{NS}title").text
            for r in ET.fromstring(nv.draw_graph(f, format="svg")).findall(f"{NS}rect")]
    root_tip = [t for t in tips if t.startswith("Mul\n")][0]
    assert "grad —" in root_tip and "retain_grad() on this tensor before backward()" in root_tip
    # asked for, the output's own gradient is the seed df/df = 1
    g = (x + y) * z
    g.retain_grad()
    g.backward()
    texts = [t.text for t in ET.fromstring(nv.draw_graph(g, format="svg")).findall(f"{NS}text")]
    assert texts[texts.index("Mul") + 2] == "grad 1"


def test_names_may_be_the_model_for_its_parameters():
    nv.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    loss = m(np.ones((2, 3), np.float32)).sum()
    loss.backward()
    for out in (nv.draw_graph(loss, names=m), nv.draw_graph(loss, format="svg", names=m)):
        for p in ("0.weight", "0.bias", "2.weight", "2.bias"):
            assert f"{p}: leaf" in out


def _chain(n):
    x = nv.tensor(np.ones((2, 3)), requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    return y.sum()


def test_a_10000_node_chain_is_drawn_in_linear_time():
    small, big = _chain(1000), _chain(10000)
    nv.draw_graph(small, format="svg")  # warm up
    t0 = time.perf_counter()
    nv.draw_graph(small, format="svg")
    t_small = time.perf_counter() - t0
    t0 = time.perf_counter()
    svg = nv.draw_graph(big, format="svg")
    t_big = time.perf_counter() - t0
    assert svg.count("<rect") == 10002 and svg.count("<line") == 10001
    assert t_big < 40 * t_small + 1.0  # linear: ~10x; quadratic would be ~100x


def test_shared_weight_edges_stay_linear_in_size():
    W = nv.tensor(0.5, requires_grad=True)
    h = nv.tensor(0.0)
    n = 1500
    for t in range(n):
        h = (h * W + 1.0).tanh()
    svg = nv.draw_graph(h, format="svg")
    # W feeds n Mul nodes spread over 3n columns: waypoints for all of them would be
    # ~3n^2/2; the drawing keeps them under a budget linear in the graph
    vertices = sum(len(re.findall(r"[\d.]+,[\d.]+", d)) for d in re.findall(r' d="(M[^"]*)"', svg))
    assert vertices < 40 * 3 * n
