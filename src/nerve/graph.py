"""Draw the computational graph behind a tensor: Graphviz DOT text or a self-made SVG."""
from __future__ import annotations

import html
import os
from collections.abc import Mapping

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
               names: dict | None = None) -> str | bytes:
    """Render the graph behind ``t``: each node's op, value (or shape) and gradient.

    ``format="dot"`` gives Graphviz source; ``format="svg"`` an SVG drawn by nerve
    itself (a layered layout, inputs on the left, ``t`` on the right), no external
    binary needed; ``"png"``, ``"pdf"``, ``"jpg"`` or ``"gif"`` are rendered by
    Graphviz (the ``graphviz`` extra and the Graphviz program). By default the format
    follows ``path``'s extension, else DOT. ``names`` maps tensors to labels
    (``{x: "x"}``; a mapping the wrong way round or a label that is not a str is a
    TypeError). With ``path`` the result is also written there (atomically).
    Returns the text (DOT, SVG) or the bytes (rendered formats).

    As in PyTorch, backward keeps the gradients of leaves only: call
    ``retain_grad()`` on an intermediate tensor before ``backward()`` to see its
    gradient in the drawing.
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


def _svg(root, nodes, edges, names) -> str:
    # Column = longest distance from the root (Kahn's order over consumers), so every
    # edge points right and the root sits in the last column.
    parents, consumers = {}, {}
    for a, b in edges:
        parents.setdefault(b, []).append(a)
        consumers[a] = consumers.get(a, 0) + 1
    depth = {id(root): 0}
    ready = [id(root)]
    while ready:
        b = ready.pop()
        for a in parents.get(b, ()):
            depth[a] = max(depth.get(a, 0), depth[b] + 1)
            consumers[a] -= 1
            if consumers[a] == 0:
                ready.append(a)
    max_d = max(depth.values())
    columns: dict[int, list] = {}
    for n in nodes:
        columns.setdefault(max_d - depth[id(n)], []).append(n)
    w, h, gx, gy = 200, 44, 60, 18
    pos = {}
    for col, members in columns.items():
        for row, n in enumerate(members):
            pos[id(n)] = (20 + col * (w + gx), 20 + row * (h + gy))
    width = 40 + (max_d + 1) * (w + gx)
    height = 40 + max(len(m) for m in columns.values()) * (h + gy)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="Helvetica, Arial, sans-serif" font-size="11">',
           '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" '
           'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#555"/></marker></defs>']
    for a, b in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        out.append(f'<line x1="{x1 + w}" y1="{y1 + h / 2}" x2="{x2}" y2="{y2 + h / 2}" '
                   'stroke="#555" marker-end="url(#arrow)"/>')
    for n in nodes:
        x, y = pos[id(n)]
        title, body = (html.escape(s) for s in _label(n, names))
        fill = "#dbeafe" if n._ctx is None else "#fef3c7"
        out.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{fill}" '
                   'stroke="#333"/>')
        out.append(f'<text x="{x + 8}" y="{y + 17}" font-weight="bold">{title}</text>')
        out.append(f'<text x="{x + 8}" y="{y + 34}">{body}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
