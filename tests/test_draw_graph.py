"""draw_graph: DOT text and nerve's own SVG, with each node's op, value and gradient."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nerve as nv


def circuit():
    x = nv.tensor(-2.0, requires_grad=True)
    y = nv.tensor(5.0, requires_grad=True)
    z = nv.tensor(-4.0, requires_grad=True)
    q = (x + y).retain_grad()
    f = q * z
    f.backward()
    return f, {x: "x", y: "y", z: "z", q: "q", f: "f"}


def test_dot_lists_ops_values_and_gradients():
    f, names = circuit()
    dot = nv.draw_graph(f, names=names)
    assert dot.startswith("digraph")
    assert "f: Mul" in dot and "q: Add" in dot
    assert "value -12" in dot and "value 3 | grad -4" in dot   # q = 3, df/dq = -4
    assert "z: leaf | value -4 | grad 3" in dot
    assert dot.count("->") == 4


def test_svg_is_valid_xml_with_one_box_per_node(tmp_path):
    f, names = circuit()
    path = tmp_path / "g.svg"
    svg = nv.draw_graph(f, path=path, format="svg", names=names)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f"{ns}rect")) == 5
    assert len(root.findall(f"{ns}line")) == 4
    assert path.read_text() == svg
    # Inputs sit left of the output.
    xs = {t.text: float(t.get("x")) for t in root.findall(f"{ns}text") if t.get("font-weight")}
    assert xs["x: leaf"] < xs["q: Add"] < xs["f: Mul"]


def test_svg_handles_a_few_hundred_nodes_and_shapes():
    x = nv.tensor(np.ones((2, 3)), requires_grad=True)
    y = x
    for _ in range(300):
        y = y * 1.01
    svg = nv.draw_graph(y.sum(), format="svg")
    assert svg.count("<rect") == 302 and "shape (2, 3)" in svg


def test_unknown_format():
    with pytest.raises(ValueError, match="'dot' or 'svg' .* 'png', 'pdf'"):
        nv.draw_graph(nv.tensor(1.0), format="bmpx")


def test_format_follows_the_extension(tmp_path):
    f, names = circuit()
    svg = nv.draw_graph(f, tmp_path / "g.svg", names=names)
    assert svg.startswith("<svg") and (tmp_path / "g.svg").read_text() == svg
    dot = nv.draw_graph(f, tmp_path / "g.gv", names=names)
    assert dot.startswith("digraph") and (tmp_path / "g.gv").read_text() == dot
    assert nv.draw_graph(f, tmp_path / "g.txt").startswith("digraph")  # unknown: DOT
    assert nv.draw_graph(f, tmp_path / "h.svg", format="dot").startswith("digraph")  # explicit


def test_short_vectors_show_their_values():
    x = nv.tensor([1.0, -2.0, 0.5], requires_grad=True)
    (x * 2.0).sum().backward()
    dot = nv.draw_graph(x * 1.0)
    assert "value [1, -2, 0.5] | grad [2, 2, 2]" in dot


def test_png_needs_the_graphviz_extra_and_program(tmp_path, monkeypatch):
    import shutil
    import sys

    f, _ = circuit()
    path = tmp_path / "g.png"
    pytest.importorskip("graphviz")  # in the test extra
    if shutil.which("dot"):
        png = nv.draw_graph(f, path)
        assert png.startswith(b"\x89PNG") and path.read_bytes() == png
    else:
        with pytest.raises(FileNotFoundError, match="needs the Graphviz program 'dot'"):
            nv.draw_graph(f, path)
        assert not path.exists()
    monkeypatch.setitem(sys.modules, "graphviz", None)
    with pytest.raises(ImportError, match=r"pip install 'nerve\[graphviz\]'"):
        nv.draw_graph(f, format="pdf")


def test_a_missing_extra_is_named_by_its_package(monkeypatch):
    import sys

    from nerve._extras import MissingExtraError, require

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "matplotlib.figure", raising=False)
    with pytest.raises(MissingExtraError) as info:
        require("matplotlib.figure", "plot", "plotting")
    assert str(info.value) == ("matplotlib is needed for plotting but is not installed; "
                               "install it with: pip install 'nerve[plot]'")
