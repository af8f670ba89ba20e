"""Draw the computational graph behind a tensor: Graphviz DOT text or a self-made SVG."""
from __future__ import annotations

import html
import os
from collections.abc import Mapping
from typing import Any

import numpy as np


def _nodes_and_edges(root):
    """Every tensor reachable from ``root`` (inputs first) and the (parent, child) edges."""
    order, seen, edges = [], {id(root)}, []
    stack = [root]
    while stack:
        node = stack.pop()
        order.append(node)
        ctx = node._ctx
        if ctx is None:
            continue
        for parent in ctx.parents:
            edges.append((id(parent), id(node)))
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return order, edges


def _fmt(a) -> str:
    if a is None:
        return "—"
    a = np.asarray(a)
    if a.size == 1:
        return f"{a.item():.4g}"
    if a.size <= 4 and a.ndim == 1:  # a short vector reads better as its values
        return "[" + ", ".join(f"{v:.3g}" for v in a.tolist()) + "]"
    return f"shape {a.shape}"


def _label(t, names) -> tuple[str, str]:
    op = t.op or ("input" if not t.requires_grad else "leaf")
    name = names.get(id(t), "")
    title = f"{name}: {op}" if name else op
    return title, f"value {_fmt(t.data)} | grad {_fmt(t.grad)}"


def _label_ids(names, tensor_type) -> dict:
    """``names`` ({tensor: "label"}) keyed by the tensors' ids; a TypeError naming the
    expected form for anything else (a mapping the wrong way round, a label not a str)."""
    if names is None:
        return {}
    named = getattr(names, "named_parameters", None)
    if callable(named) and not isinstance(names, Mapping):  # a Module: "0.weight", ...
        return {id(p): label for label, p in named()}
    form = '{tensor: "label"}, e.g. names={x: "x", w: "w"}'
    if not isinstance(names, Mapping):
        raise TypeError(f"draw_graph: names must be a dict {form}, got a "
                        f"{type(names).__name__}")
    ids = {}
    for key, label in names.items():
        if isinstance(key, str) and isinstance(label, tensor_type):
            raise TypeError(f"draw_graph: names maps tensors to labels, {form}; got the label "
                            f"{key!r} as a key and a Tensor as its value (the wrong way "
                            "round): pass {v: k for k, v in names.items()}")
        if not isinstance(key, tensor_type):
            raise TypeError(f"draw_graph: the keys of names must be Tensors, {form}; got a "
                            f"key of type {type(key).__name__}: {key!r}")
        if not isinstance(label, str):
            raise TypeError(f"draw_graph: the labels in names must be strings, {form}; got "
                            f"{label!r} ({type(label).__name__}) for a tensor of shape "
                            f"{key.shape}")
        ids[id(key)] = label
    return ids


#: Formats that the Graphviz program renders from the DOT text (the ``graphviz`` extra).
RENDERED = ("png", "pdf", "jpg", "gif")
_BY_EXTENSION = {".dot": "dot", ".gv": "dot", ".svg": "svg",
                 **{f".{f}": f for f in RENDERED}, ".jpeg": "jpg"}


def draw_graph(t, path: str | os.PathLike | None = None, format: str | None = None,  # noqa: A002
               names: Any = None) -> str | bytes:
    """Render the graph behind ``t``: each node's op, value (or shape) and gradient.

    ``format="dot"`` gives Graphviz source; ``format="svg"`` an SVG drawn by nerve
    itself (a layered layout, inputs on the left, ``t`` on the right), no external
    binary needed; ``"png"``, ``"pdf"``, ``"jpg"`` or ``"gif"`` are rendered by
    Graphviz (the ``graphviz`` extra and the Graphviz program). By default the format
    follows ``path``'s extension, else DOT. ``names`` maps tensors to labels
    (``{x: "x"}``; a mapping the wrong way round or a label that is not a str is a
    TypeError), or is a Module, whose parameters are then labelled by their names
    (``names=model``: ``0.weight``, ...). With ``path`` the result is also written
    there (atomically). Returns the text (DOT, SVG) or the bytes (rendered formats).

    The SVG routes an edge that skips columns through free lanes between the boxes
    (never under a box it does not connect; the edges from one node share a trunk and
    branch off it), sizes each column's boxes to its widest text (a line longer than
    420 px is cut, in full in the box's tooltip), and gives every edge its own port on
    a box's side, so x * x shows two arrows into Mul.

    As in PyTorch, backward keeps the gradients of leaves only: call
    ``retain_grad()`` on an intermediate tensor before ``backward()`` to see its
    gradient in the drawing; on ``t`` itself it shows the seed, dt/dt = 1 (nothing
    in a graph records which tensor backward started from, so it is not guessed).
    """
    from .tensor import Tensor
    if not isinstance(t, Tensor):
        raise TypeError(f"draw_graph expects a nerve Tensor (the result of a computation), "
                        f"got {type(t).__name__}")
    if path is not None:
        from .atomic import check_path
        path = check_path(path)
    if format is None:
        ext = os.path.splitext(path)[1].lower() if path is not None else ""
        format = _BY_EXTENSION.get(ext, "dot")  # noqa: A001
    if format not in ("dot", "svg") + RENDERED:
        raise ValueError(f"unknown format {format!r}; expected 'dot' or 'svg' (drawn by "
                         f"nerve) or one of {', '.join(map(repr, RENDERED))} (Graphviz)")
    names = _label_ids(names, Tensor)
    nodes, edges = _nodes_and_edges(t)
    if format == "svg":
        out: str | bytes = _svg(t, nodes, edges, names)
    else:
        out = _dot(nodes, edges, names)
        if format in RENDERED:
            out = _render(out, format)
    if path is not None:
        from .atomic import atomic_write_bytes
        atomic_write_bytes(path, out if isinstance(out, bytes) else out.encode("utf-8"))
    return out


def _render(dot: str, format: str) -> bytes:  # noqa: A002
    """DOT text rendered to ``format`` by the Graphviz program, through the graphviz package."""
    from ._extras import require
    graphviz = require("graphviz", "graphviz", f"drawing graphs as {format.upper()}")
    try:
        return graphviz.Source(dot).pipe(format=format)
    except graphviz.ExecutableNotFound:
        raise FileNotFoundError(f"drawing a graph as {format.upper()} needs the Graphviz program "
                           "'dot' (https://graphviz.org/download/), which is not on the PATH; "
                           "format='svg' needs nothing else") from None


def _dot(nodes, edges, names) -> str:
    lines = ["digraph nerve {", "  rankdir=LR;", '  node [shape=record, fontname="Helvetica"];']
    for n in nodes:
        title, body = _label(n, names)
        label = f"{{ {title} | {body} }}".replace('"', "'")
        lines.append(f'  n{id(n)} [label="{label}"];')
    for a, b in edges:
        lines.append(f"  n{a} -> n{b};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- SVG
# nerve's own drawing, a layered ("Sugiyama") layout as Graphviz's dot makes it:
# 1. columns: each node sits just left of its leftmost consumer, the root rightmost;
# 2. the edges from one node that skip columns share a trunk with a waypoint (a
#    "dummy" slot) in each column it crosses, so they run through free lanes between
#    the boxes, never under one, and branch off just before their targets;
# 3. the rows of each column are ordered by the barycentre heuristic (fewer crossings);
# 4. y positions pull each box toward its neighbours, keeping the order and the gaps.
# Every box is as wide as its column's widest text; an edge enters and leaves a box at
# its own port on the box's side, so two edges between the same pair of nodes (x * x)
# are two arrows. Trunks beyond a budget linear in the graph's size (many inputs used
# at both ends of a long chain) are replaced by lanes above the drawing, so the
# drawing stays linear in size and time.

#: Advance widths of DejaVu Sans (the usual fallback of "sans-serif", wider than
#: Helvetica and Arial) in hundredths of an em for " " to "~"; anything else counts 1 em.
_WIDTH_REGULAR = (
    32, 40, 47, 84, 64, 96, 78, 28, 39, 39, 50, 85, 32, 36, 32, 34, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 34, 34, 84, 85, 84, 53, 100, 68, 69, 70, 77, 63, 58, 78, 75, 29, 29, 65,
    56, 86, 75, 79, 60, 79, 70, 64, 62, 73, 68, 99, 69, 61, 68, 39, 34, 39, 84, 50, 50, 62,
    63, 56, 64, 62, 35, 64, 63, 28, 28, 58, 28, 97, 63, 61, 63, 64, 42, 52, 39, 63, 59, 82,
    59, 59, 52, 63, 34, 64, 84)
_WIDTH_BOLD = (
    35, 46, 53, 84, 70, 100, 87, 32, 47, 47, 52, 85, 38, 41, 38, 37, 70, 70, 70, 70, 70, 70,
    70, 70, 70, 70, 40, 40, 84, 85, 84, 59, 100, 77, 76, 73, 82, 68, 68, 82, 83, 36, 37, 77,
    64, 99, 83, 85, 73, 85, 77, 72, 69, 80, 77, 110, 77, 72, 73, 46, 37, 46, 84, 50, 50, 68,
    71, 59, 71, 68, 44, 71, 71, 33, 33, 66, 33, 104, 71, 68, 71, 71, 49, 60, 47, 71, 65, 92,
    65, 65, 58, 71, 37, 72, 85)
_FONT = 11          # px, the SVG's font-size
_LINE = 15          # px from one text line's baseline to the next
_PAD = 8            # px between a box's border and its text
_BOX_H = 3 * _LINE + 10          # title, value, grad
_MIN_TEXT, _MAX_TEXT = 48, 420   # px of text per line; longer is cut, in full in a <title>
_GAP_X, _GAP_Y = 64, 20          # px between columns, between boxes of a column
_LANE = 9                        # px between parallel lanes (waypoints, overflow lanes)
_MARGIN = 20
_YIELD, _YIELD_INPUT = 0.2, 0.5  # a waypoint's, an input's weight in placing rows (op: 1)


_TABLES = {bold: (100,) * 32 + widths + (100,) for bold, widths in
           ((False, _WIDTH_REGULAR), (True, _WIDTH_BOLD))}  # by code point, 0 to 127


def _text_width(s: str, bold: bool = False) -> float:
    """Width in px of ``s`` at the drawing's font size (DejaVu Sans metrics, an upper
    bound for Helvetica and Arial)."""
    table = _TABLES[bold]
    if s.isascii():
        return _FONT / 100 * sum(map(table.__getitem__, s.encode()))
    return _FONT / 100 * sum(table[o] if o < 128 else 100 for o in map(ord, s))


def _fit(s: str, bold: bool) -> tuple[str, float]:
    """``s``, cut to at most _MAX_TEXT px with an ellipsis, and its width."""
    w = _text_width(s, bold)
    if w <= _MAX_TEXT:
        return s, w
    lo, hi = 0, len(s)  # the longest prefix that fits with the "…"
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _text_width(s[:mid] + "…", bold) <= _MAX_TEXT:
            lo = mid
        else:
            hi = mid - 1
    return s[:lo] + "…", _text_width(s[:lo] + "…", bold)


def _svg_lines(t, names) -> tuple[list[str], str]:
    """The box's three lines (title, value, grad) and its tooltip (the same, in full)."""
    title, _ = _label(t, names)
    lines = [title, f"value {_fmt(t.data)}", f"grad {_fmt(t.grad)}"]
    tip = list(lines)
    shape = getattr(t.data, "shape", None)
    if shape is not None:
        tip.append(f"shape {tuple(shape)}, {t.data.dtype}")
    if t.grad is None:
        if not t.requires_grad:
            tip.append("no gradient: this tensor does not require one")
        elif t._ctx is not None:
            tip.append("backward keeps the gradients of leaves only: call retain_grad() "
                       "on this tensor before backward() to see its gradient")
        else:
            tip.append("no backward() has reached this leaf yet")
    return lines, "\n".join(tip)


def _columns(n_nodes: int, edges: list) -> list[int]:
    """Column of every node (node 0 is the root): one left of its leftmost consumer."""
    parents: list[list[int]] = [[] for _ in range(n_nodes)]
    consumers = [0] * n_nodes
    for a, b in edges:
        parents[b].append(a)
        consumers[a] += 1
    depth = [0] * n_nodes
    ready = [0]
    while ready:  # Kahn's order from the root: a node once all its consumers are placed
        b = ready.pop()
        for a in parents[b]:
            if depth[b] + 1 > depth[a]:
                depth[a] = depth[b] + 1
            consumers[a] -= 1
            if consumers[a] == 0:
                ready.append(a)
    last = max(depth)
    return [last - d for d in depth]


def _crossings(order, succ, pos) -> int:
    """Edge crossings between every pair of adjacent columns (inversions, Fenwick tree)."""
    total = 0
    for c in range(len(order) - 1):
        seq = []
        for it in order[c]:  # edges sorted by source position, then by target position
            seq.extend(sorted(pos[s] for s in succ[it]))
        size = len(order[c + 1])
        tree = [0] * (size + 1)
        seen = 0
        for v in seq:  # count earlier edges whose target lies below this one's
            i, le = v + 1, 0
            while i > 0:
                le += tree[i]
                i -= i & -i
            total += seen - le
            seen += 1
            i = v + 1
            while i <= size:
                tree[i] += 1
                i += i & -i
    return total


def _place(items, height, weight, want) -> list[float]:
    """Centres for ``items`` (top to bottom) as near ``want`` as the order and the gaps
    allow: least squares weighted by ``weight`` under c[i+1] - c[i] >= gap (pool
    adjacent violators), so that the lighter items make way."""
    offs, o = [], 0.0
    for k, it in enumerate(items):
        if k:
            h0, h1 = height[items[k - 1]], height[it]  # 0 for a waypoint
            gap = _GAP_Y if h0 and h1 else _LANE + 4 if h0 or h1 else _LANE
            o += (h0 + h1) / 2 + gap
        offs.append(o)
    blocks: list[list[float]] = []  # [weighted sum, total weight, count]
    for k, it in enumerate(items):
        w = weight[it]
        blocks.append([w * (want[it] - offs[k]), w, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, w, n = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += w
            blocks[-1][2] += n
    out = []
    for s, w, n in blocks:
        out.extend([s / w] * n)
    return [q + off for q, off in zip(out, offs)]


def _svg(root, nodes, edges, names) -> str:
    index = {id(n): i for i, n in enumerate(nodes)}  # nodes[0] is the root
    n_nodes = len(nodes)
    pairs = [(index[a], index[b]) for a, b in edges]
    col = _columns(n_nodes, pairs)
    n_cols = max(col) + 1

    # The text of every box, cut to _MAX_TEXT px, and each column's width.
    texts, tips, widths = [], [], [0.0] * n_cols
    for i, n in enumerate(nodes):
        lines, tip = _svg_lines(n, names)
        fitted = [_fit(s, k == 0) for k, s in enumerate(lines)]
        texts.append([s for s, _ in fitted])
        tips.append(tip)
        w = max(max(w for _, w in fitted), _MIN_TEXT) * 1.1  # hinting may widen text ~10%
        widths[col[i]] = max(widths[col[i]], w + 2 * _PAD)
    left, x = [], float(_MARGIN)
    for w in widths:
        left.append(x)
        x += w + _GAP_X
    width = x - _GAP_X + _MARGIN

    # Waypoints ("dummies"): the edges from one node that skip columns share one trunk,
    # a waypoint in each column up to the farthest of them, and branch off it just
    # before their targets. Trunks are laid out shortest first, as many as a budget
    # linear in the graph's size allows; the rest go round, along lanes above.
    height = [float(_BOX_H)] * n_nodes
    pred: list[list[int]] = [[] for _ in range(n_nodes)]
    succ: list[list[int]] = [[] for _ in range(n_nodes)]
    uses: list[list[tuple]] = [[] for _ in range(n_nodes)]  # (consumer, input number)
    item_col = list(col)
    argn, seen_in = [], [0] * n_nodes  # each edge's input number at its target
    for a, b in pairs:
        argn.append(seen_in[b])
        seen_in[b] += 1

    def link(u, v, number):
        uses[u].append((v, number))
        succ[u].append(v)
        pred[v].append(u)

    long: dict[int, list[int]] = {}  # source -> its edges that skip columns
    for k, (a, b) in enumerate(pairs):
        if col[b] - col[a] > 1:
            long.setdefault(a, []).append(k)
        else:
            link(a, b, argn[k])
    reach = {a: max(col[pairs[k][1]] for k in ks) for a, ks in long.items()}
    trunk: dict[int, list[int]] = {}  # source -> its waypoints, one per column
    via: list = [None] * len(pairs)  # the waypoint an edge branches off (None: a lane)
    budget = max(5000, 4 * (n_nodes + len(pairs)))
    for a in sorted(long, key=lambda a: reach[a] - col[a]):
        if reach[a] - col[a] - 1 > budget:
            continue  # its edges go round, along a lane above the drawing
        budget -= reach[a] - col[a] - 1
        ds, prev = [], a
        for c in range(col[a] + 1, reach[a]):
            ds.append(len(height))
            height.append(0.0)
            pred.append([])
            succ.append([])
            uses.append([])
            item_col.append(c)
            link(prev, ds[-1], 0)
            prev = ds[-1]
        trunk[a] = ds
        for k in long[a]:
            via[k] = ds[col[pairs[k][1]] - col[a] - 2]
            link(via[k], pairs[k][1], argn[k])
    n_items = len(height)

    # Order within the columns: first a depth-first order from the root (an op's first
    # input above its second), then barycentre sweeps, keeping the fewest crossings.
    order: list[list[int]] = [[] for _ in range(n_cols)]
    pos = [0] * n_items
    order[n_cols - 1] = [0]
    by_col: list[list[int]] = [[] for _ in range(n_cols)]
    for it in range(n_items):
        by_col[item_col[it]].append(it)
    for c in range(n_cols - 2, -1, -1):
        for r, it in enumerate(order[c + 1]):
            pos[it] = r

        def first_use(it):
            return min(((pos[v], k) for v, k in uses[it]), default=(n_items, it))
        order[c] = sorted(by_col[c], key=first_use)
    for c in range(n_cols):
        for r, it in enumerate(order[c]):
            pos[it] = r
    best, best_order = _crossings(order, succ, pos), [list(o) for o in order]
    sweeps = 4 if n_items <= 4000 else 1
    for _ in range(sweeps):
        if best == 0:
            break
        for cols, nbrs in ((range(1, n_cols), pred), (range(n_cols - 2, -1, -1), succ)):
            for c in cols:
                def key(it, nbrs=nbrs):
                    ns = nbrs[it]
                    return sum(pos[v] for v in ns) / len(ns) if ns else pos[it]
                order[c].sort(key=key)
                for r, it in enumerate(order[c]):
                    pos[it] = r
            now = _crossings(order, succ, pos)
            if now < best:
                best, best_order = now, [list(o) for o in order]
    order = best_order
    for c in range(n_cols):
        for r, it in enumerate(order[c]):
            pos[it] = r

    # y: stacked, then each column pulled toward its neighbours (consumers, inputs).
    centre = [0.0] * n_items
    for c in range(n_cols):
        y = 0.0
        for it in order[c]:
            centre[it] = y + height[it] / 2
            y += height[it] + _GAP_Y
    # An op's box weighs 1, an input's (no edge in) _YIELD_INPUT, a waypoint _YIELD:
    # in a crowded column the lighter ones make way.
    weight = [1.0 if pred[it] else _YIELD_INPUT for it in range(n_nodes)]
    weight += [_YIELD] * (n_items - n_nodes)
    rounds = 3 if n_items <= 20000 else 1
    def settle(c, nbrs, weights, movable):
        """Column c's rows, each movable item drawn to the mean row of its weightiest
        neighbours in ``nbrs`` (ops, else inputs, else waypoints: a chain stays level)."""
        want = {}
        for it in order[c]:
            ns = nbrs[it] if movable(it) else ()
            if ns:
                top = max(weight[v] for v in ns)
                ns = [v for v in ns if weight[v] == top]
                want[it] = sum(centre[v] for v in ns) / len(ns)
            else:
                want[it] = centre[it]
        if len(order[c]) == 1:  # alone in its column: straight there
            centre[order[c][0]] = want[order[c][0]]
            return
        for it, y in zip(order[c], _place(order[c], height, weights, want)):
            centre[it] = y

    def anything(it):
        return True
    for _ in range(rounds):  # toward the consumers, then toward the inputs
        for c in range(n_cols - 2, -1, -1):
            settle(c, succ, weight, anything)
        for c in range(1, n_cols):
            settle(c, pred, weight, anything)
    # Last, the inputs (no edge in) move to their consumers, the rest stay put.
    pinned = [1e6 if pred[it] else 1.0 for it in range(n_items)]
    for c in range(n_cols - 1):
        settle(c, succ, pinned, lambda it: not pred[it])

    # Lanes above the drawing for the edges left without waypoints, one per source.
    lane_of = {a: n for n, a in enumerate(a for a in long if a not in trunk)}
    top = min(centre[it] - height[it] / 2 for it in range(n_items))
    shift = _MARGIN - top + (len(lane_of) * _LANE + _LANE if lane_of else 0)
    centre = [y + shift for y in centre]
    bottom = max(centre[it] + height[it] / 2 for it in range(n_items))
    canvas_h = bottom + _MARGIN

    # Ports: the edges (and trunks) leave a box at points spread along its right side,
    # and enter one at points along its left side, in the order of where they go to
    # (come from), so no two coincide.
    outs: list[list[tuple]] = [[] for _ in range(n_nodes)]
    ins: list[list[tuple]] = [[] for _ in range(n_nodes)]
    for k, (a, b) in enumerate(pairs):
        if col[b] - col[a] == 1:
            outs[a].append((centre[b], k))
            ins[b].append((centre[a], k))
        else:
            ins[b].append((centre[via[k]] if via[k] is not None else -1.0, k))
    for a in long:  # its trunk, or its lane (on top)
        outs[a].append((centre[trunk[a][0]] if a in trunk else -1.0, -1 - a))
    port_out, port_in = {}, {}
    for node, lst, port in [(i, outs[i], port_out) for i in range(n_nodes)] + \
                           [(i, ins[i], port_in) for i in range(n_nodes)]:
        lst.sort()
        y0, span = centre[node] - _BOX_H / 2 + 6, _BOX_H - 12
        for r, (_, k) in enumerate(lst):
            port[k] = y0 + span * (r + 1) / (len(lst) + 1)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
           f'height="{canvas_h:.0f}" font-family="Helvetica, Arial, sans-serif" '
           f'font-size="{_FONT}">',
           '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" '
           'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>']
    for i, n in enumerate(nodes):
        x, y, w = left[col[i]], centre[i] - _BOX_H / 2, widths[col[i]]
        fill = "#dbeafe" if n._ctx is None else "#fef3c7"
        title, value, grad = (html.escape(s) for s in texts[i])
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{_BOX_H}" rx="6" '
                   f'fill="{fill}" stroke="#333"><title>{html.escape(tips[i])}</title></rect>')
        out.append(f'<text x="{x + _PAD:.1f}" y="{y + 17:.1f}" font-weight="bold">{title}</text>')
        out.append(f'<text x="{x + _PAD:.1f}" y="{y + 17 + _LINE:.1f}">{value}</text>')
        out.append(f'<text x="{x + _PAD:.1f}" y="{y + 17 + 2 * _LINE:.1f}">{grad}</text>')
    def line(x0, y0, x1, y1):
        out.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" '
                   'stroke="#555" marker-end="url(#arrow)"/>')

    def path(points, arrow):
        d = "M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in points)
        out.append(f'<path d="{d}" fill="none" stroke="#555"'
                   + (' marker-end="url(#arrow)"/>' if arrow else '/>'))

    def right(c):
        return left[c] + widths[c]

    for k, (a, b) in enumerate(pairs):  # the edges between neighbouring columns
        if col[b] - col[a] == 1:
            line(right(col[a]), port_out[k], left[col[b]], port_in[k])
    for a, ds in trunk.items():  # each trunk: across every column, level, at its waypoint
        points = [(right(col[a]), port_out[-1 - a])]
        for d in ds:
            points += [(left[item_col[d]], centre[d]), (right(item_col[d]), centre[d])]
        path(points, False)
    slots = max(1, int((_GAP_X / 2 - 8) // 4))
    for k, (a, b) in enumerate(pairs):  # branches off the trunks, and the lanes
        if col[b] - col[a] == 1:
            continue
        x1, y1 = left[col[b]], port_in[k]
        d = via[k]
        if d is not None:
            line(right(item_col[d]), centre[d], x1, y1)
            continue
        # up in the gap after the source, along its lane, down in the gap before the target
        lane = lane_of[a]
        x0, y0 = right(col[a]), port_out[-1 - a]
        xu, xd = x0 + 6 + 4 * (lane % slots), x1 - 6 - 4 * (lane % slots)
        yl = _MARGIN + lane * _LANE
        path([(x0, y0), (xu, y0), (xu, yl), (xd, yl), (xd, y1), (x1, y1)], True)
    out.append("</svg>")
    return "\n".join(out) + "\n"
