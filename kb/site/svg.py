"""Pictures for the site, drawn as SVG text in Python: no JavaScript, no fonts, nothing fetched.

Both pictures are laid out by fixed rules (sorted ids, fixed spacing), so the same
knowledge base always gives the same bytes. Every label is XML-escaped; the pages
show the pictures with ``<img>``, where an SVG can run nothing anyway.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import networkx as nx

from kb.graph import claim_node
from kb.model import KnowledgeBase
from kb.weigh import Weights, shown

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
SUPPORTS = "#2e7d32"
OPPOSES = "#c62828"
RELATED = "#1565c0"
NEUTRAL = "#9e9e9e"
INK = "#212121"
MUTED = "#616161"

NODE_WIDTH = 210
NODE_HEIGHT = 46
ROW = 62
COLUMNS = (20, 275, 530)  # x of the sources, the claim, the related claims
WIDTH = COLUMNS[2] + NODE_WIDTH + 20
TOP = 44
# Beyond this many neighbours on one side the picture lists the first ones and says how many more.
MAX_PER_SIDE = 14
# Beyond this many sources the heat map shows the ones with the most claims.
MAX_HEATMAP_SOURCES = 40


def _x(text: str) -> str:
    return html.escape(" ".join(str(text).split()), quote=True)


def _fmt(value: float) -> str:
    """Coordinates without float noise, so the output is stable and small."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def wrap_label(text: str, width: int = 32, lines: int = 2) -> list[str]:
    """Up to ``lines`` lines of about ``width`` characters, the last one cut with an ellipsis."""
    words = " ".join(str(text).split()).split(" ")
    out: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if len(candidate) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
        if len(out) == lines:
            break
    if len(out) < lines and current:
        out.append(current)
    used = len(" ".join(out).split(" "))
    if used < len(words) or any(len(line) > width for line in out):
        out[-1] = shorten(out[-1], width - 1) if len(out[-1]) >= width else out[-1] + "\u2026"
    return [shorten(line, width) for line in out[:lines]]


def _mix(a: str, b: str, t: float) -> str:
    """The colour ``t`` of the way from ``a`` to ``b`` (hex RGB)."""
    t = min(1.0, max(0.0, t))
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb, strict=True))


def strength_colour(strength: float) -> str:
    """Red below 0.5, grey at 0.5, green above, light enough for dark text."""
    if strength >= 0.5:
        return _mix("#f5f5f5", "#a5d6a7", (strength - 0.5) * 2)
    return _mix("#f5f5f5", "#ef9a9a", (0.5 - strength) * 2)


@dataclass(frozen=True)
class _Node:
    key: str
    lines: list[str]
    sub: str
    fill: str
    x: float
    y: float


def _node_svg(node: _Node, bold: bool = False) -> str:
    weight = ' font-weight="600"' if bold else ""
    parts = [
        f'<g class="node"><rect x="{_fmt(node.x)}" y="{_fmt(node.y)}" width="{NODE_WIDTH}" '
        f'height="{NODE_HEIGHT}" rx="6" fill="{node.fill}" stroke="{MUTED}" '
        f'stroke-width="{2 if bold else 1}"/>'
    ]
    for i, line in enumerate(node.lines):
        parts.append(
            f'<text x="{_fmt(node.x + 8)}" y="{_fmt(node.y + 15 + 13 * i)}" font-size="11.5"{weight} '
            f'fill="{INK}">{_x(line)}</text>'
        )
    if node.sub:
        parts.append(
            f'<text x="{_fmt(node.x + NODE_WIDTH - 6)}" y="{_fmt(node.y + NODE_HEIGHT - 5)}" font-size="9.5" '
            f'text-anchor="end" fill="{MUTED}">{_x(node.sub)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _edge_svg(start: tuple[float, float], end: tuple[float, float], colour: str, dashed: bool) -> str:
    (x1, y1), (x2, y2) = start, end
    mid = (x1 + x2) / 2
    dash = ' stroke-dasharray="6 4"' if dashed else ""
    return (
        f'<path d="M{_fmt(x1)},{_fmt(y1)} C{_fmt(mid)},{_fmt(y1)} {_fmt(mid)},{_fmt(y2)} '
        f'{_fmt(x2)},{_fmt(y2)}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
    )


def _edge_labels(node: _Node, parts: list[tuple[str, str]], on_left: bool) -> str:
    """What joins a side node to the claim, written in the gap above the node, on the claim's side."""
    x = node.x + NODE_WIDTH if on_left else node.x
    anchor = "end" if on_left else "start"
    spans = ", ".join(f'<tspan fill="{colour}">{_x(text)}</tspan>' for text, colour in parts)
    return f'<text x="{_fmt(x)}" y="{_fmt(node.y - 4)}" font-size="10" text-anchor="{anchor}">{spans}</text>'


def _svg(width: float, height: float, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_fmt(width)}" height="{_fmt(height)}" '
        f'viewBox="0 0 {_fmt(width)} {_fmt(height)}" font-family="{_x(FONT)}" role="img">'
        f"<title>{_x(title)}</title>"
        f'<rect width="100%" height="100%" fill="#ffffff"/>' + "".join(body) + "</svg>\n"
    )


def _column(keys: list[str], make, x: float, top: float) -> tuple[list[_Node], str | None]:
    shown = keys[:MAX_PER_SIDE]
    nodes = [make(key, x, top + i * ROW) for i, key in enumerate(shown)]
    more = f"+ {len(keys) - len(shown)} more" if len(keys) > len(shown) else None
    return nodes, more


def neighbourhood_svg(kb: KnowledgeBase, weights: Weights, graph: nx.MultiDiGraph, claim_id: str) -> str:
    """The claim in the middle, its sources on the left (evidence), related claims on the right."""
    centre_key = claim_node(claim_id)
    # the edges at the claim are its neighbourhood at radius 1
    edges = [*graph.in_edges(centre_key, data=True), *graph.out_edges(centre_key, data=True)]
    evidence: dict[str, list[str]] = {}  # source node -> stances, in evidence order
    relations: dict[str, list[tuple[str, bool]]] = {}  # claim node -> (relation label, outgoing)
    for u, v, data in sorted(edges, key=lambda e: (e[0], e[1], e[2]["type"], e[2].get("index", -1))):
        if data["type"] == "evidence" and v == centre_key:
            evidence.setdefault(u, []).append(data["stance"])
        elif data["type"] in ("supports", "contradicts") and centre_key in (u, v) and u != v:
            other, outgoing = (v, True) if u == centre_key else (u, False)
            relations.setdefault(other, []).append((data["type"], outgoing))

    def source_box(key: str, x: float, y: float) -> _Node:
        sid = graph.nodes[key]["id"]
        reliability = weights.reliability[sid].value
        return _Node(
            key, wrap_label(kb.sources[sid].title, 32), f"reliability {reliability:.2f}", "#eceff1", x, y
        )

    def claim_box(key: str, x: float, y: float) -> _Node:
        cid = graph.nodes[key]["id"]
        w = weights.claims[cid]
        strength = shown(w.strength)  # as every page shows it, and its colour read off that
        sub = f"{strength:.2f} \u00b7 {w.consensus}"
        return _Node(key, wrap_label(kb.claims[cid].statement, 32), sub, strength_colour(strength), x, y)

    left_keys = sorted(evidence)
    right_keys = sorted(relations)
    rows = max(len(left_keys[:MAX_PER_SIDE]), len(right_keys[:MAX_PER_SIDE]), 1)
    height = TOP + rows * ROW + 40
    left, left_more = _column(left_keys, source_box, COLUMNS[0], TOP)
    right, right_more = _column(right_keys, claim_box, COLUMNS[2], TOP)
    centre = claim_box(centre_key, COLUMNS[1], TOP + (rows - 1) * ROW / 2)

    body = [
        f'<text x="{COLUMNS[0]}" y="18" font-size="11" fill="{MUTED}">Sources (evidence)</text>',
        f'<text x="{COLUMNS[1]}" y="18" font-size="11" fill="{MUTED}">This claim</text>',
        f'<text x="{COLUMNS[2]}" y="18" font-size="11" fill="{MUTED}">Related claims</text>',
    ]
    cy = centre.y + NODE_HEIGHT / 2
    for node in left:
        stances = evidence[node.key]
        parts = []
        for offset, stance in enumerate(dict.fromkeys(stances)):
            count = stances.count(stance)
            colour = SUPPORTS if stance == "supports" else OPPOSES
            parts.append((stance + (f" \u00d7{count}" if count > 1 else ""), colour))
            dy = 6 * offset
            start = (node.x + NODE_WIDTH, node.y + NODE_HEIGHT / 2 + dy)
            body.append(_edge_svg(start, (centre.x, cy + dy), colour, False))
        body.append(_edge_labels(node, parts, on_left=True))
    for node in right:
        parts = []
        for offset, (relation, outgoing) in enumerate(relations[node.key]):
            if relation == "contradicts":
                label, colour, dashed = "contradicts", OPPOSES, True
            elif outgoing:
                label, colour, dashed = "supported by this", RELATED, False
            else:
                label, colour, dashed = "supports this", RELATED, False
            parts.append((label, colour))
            dy = 6 * offset
            start = (node.x, node.y + NODE_HEIGHT / 2 + dy)
            body.append(_edge_svg(start, (centre.x + NODE_WIDTH, cy + dy), colour, dashed))
        body.append(_edge_labels(node, parts, on_left=False))
    body.extend(_node_svg(n) for n in left + right)
    body.append(_node_svg(centre, bold=True))
    if not left:
        body.append(
            f'<text x="{COLUMNS[0]}" y="{TOP + 20}" font-size="11" fill="{MUTED}">no evidence yet</text>'
        )
    if not right:
        body.append(
            f'<text x="{COLUMNS[2]}" y="{TOP + 20}" font-size="11" fill="{MUTED}">no related claims</text>'
        )
    for more, x in ((left_more, COLUMNS[0]), (right_more, COLUMNS[2])):
        if more:
            body.append(f'<text x="{x}" y="{height - 22}" font-size="11" fill="{MUTED}">{_x(more)}</text>')
    title = f"Neighbourhood of the claim: {shorten(kb.claims[claim_id].statement, 120)}"
    return _svg(WIDTH, height, title, body)


def agreement_colour(agree: int, disagree: int) -> str:
    """Green for agreement, red for disagreement, by their share; grey when the pair shares nothing."""
    total = agree + disagree
    if total == 0:
        return "#f5f5f5"
    share = (agree - disagree) / total  # -1 .. 1
    if share == 0:
        return "#ffe0b2"  # as much agreement as disagreement
    strength = min(1.0, 0.35 + 0.65 * min(total, 6) / 6)  # more shared claims, deeper colour
    if share >= 0:
        return _mix("#f5f5f5", "#66bb6a", share * strength)
    return _mix("#f5f5f5", "#e57373", -share * strength)


def wrap_whole(text: str, width: int) -> list[str]:
    """Every word of ``text`` on lines of at most ``width`` characters (a longer word on a line of its own):
    nothing is cut."""
    lines: list[str] = []
    for word in " ".join(str(text).split()).split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


# The heat map: cells of HEATMAP_CELL pixels, row labels wrapped at HEATMAP_LABEL_CHARS characters on
# lines HEATMAP_LINE apart. Drawn at its own size (a page shows it in a box that scrolls sideways), so no
# text is smaller than HEATMAP_MIN_FONT pixels on any screen.
HEATMAP_CELL = 64
HEATMAP_LABEL_CHARS = 28
HEATMAP_LINE = 15
HEATMAP_MIN_FONT = 11
# Up to this many sources, each cell has a tooltip naming the two sources (beyond, the page grows too much).
HEATMAP_TIPS = 12
_CHAR_WIDTH = 6.9  # a generous average width of a character of the 12 px labels


def _lines(
    x: float, y: float, lines: list[str], size: float, anchor: str, colour: str, weight: str = ""
) -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    spans = "".join(
        f'<tspan x="{_fmt(x)}" dy="{0 if i == 0 else HEATMAP_LINE}">{_x(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text x="{_fmt(x)}" y="{_fmt(y)}" font-size="{size}"{bold} text-anchor="{anchor}" fill="{colour}">'
        f"{spans}</text>"
    )


def heatmap_svg(
    kb: KnowledgeBase, agree, disagree, href: Callable[[str, str], str | None] | None = None
) -> tuple[str, list[str]]:
    """Source against source: agreements and disagreements per pair; returns (svg, sources shown).

    ``agree`` and ``disagree`` are square tables indexed by source id (pandas DataFrames
    or anything with ``.at[a, b]``); the diagonal counts the claims each source speaks to.
    Rows carry the sources' whole titles, numbered; columns carry the same numbers. ``href(a, b)``,
    when given, is where the cell of sources ``a`` and ``b`` links to (None: no link).
    """
    ids = sorted(kb.sources)
    if len(ids) > MAX_HEATMAP_SOURCES:
        ids = sorted(ids, key=lambda s: (-int(agree.at[s, s]), s))[:MAX_HEATMAP_SOURCES]
        ids.sort()
    n = len(ids)
    cell = HEATMAP_CELL
    labels = [
        wrap_whole(f"{i + 1}. {kb.sources[sid].title}", HEATMAP_LABEL_CHARS) for i, sid in enumerate(ids)
    ]
    longest = max((len(line) for lines in labels for line in lines), default=10)
    label_width = round(24 + _CHAR_WIDTH * longest)
    heights = [max(cell, HEATMAP_LINE * len(lines) + 18) for lines in labels]
    top = 58
    body: list[str] = [
        f'<text x="20" y="18" font-size="{HEATMAP_MIN_FONT}" fill="{MUTED}">'
        "Columns: the sources, numbered as the rows</text>"
    ]
    for j in range(n):
        x = label_width + j * cell + cell / 2
        body.append(
            f'<text x="{_fmt(x)}" y="{top - 10}" font-size="13" font-weight="600" text-anchor="middle" '
            f'fill="{INK}">{j + 1}</text>'
        )
    y = float(top)
    # the cells (links, when they lead somewhere), then their numbers over them, which let a tap through
    cells: list[str] = []
    numbers: list[str] = []
    tips = n <= HEATMAP_TIPS
    for i, a in enumerate(ids):
        height = heights[i]
        first = y + height / 2 - (len(labels[i]) - 1) * HEATMAP_LINE / 2 + 4
        body.append(_lines(label_width - 10, first, labels[i], 12, "end", INK))
        for j, b in enumerate(ids):
            x = label_width + j * cell
            n_agree, n_disagree = int(agree.at[a, b]), int(disagree.at[a, b])
            if a == b:
                fill, text = "#e0e0e0", f"{n_agree}"
                tip = f"{kb.sources[a].title}: speaks to {n_agree} claims"
                numbers.append(
                    f'<text x="{_fmt(x + cell / 2)}" y="{_fmt(y + height / 2 + 18)}" '
                    f'font-size="{HEATMAP_MIN_FONT}" fill="{MUTED}">claims</text>'
                )
            else:
                fill, text = agreement_colour(n_agree, n_disagree), f"{n_agree} / {n_disagree}"
                tip = (
                    f"{kb.sources[a].title} and {kb.sources[b].title}: agree on {n_agree}, "
                    f"clash on {n_disagree}"
                )
            numbers.append(
                f'<text x="{_fmt(x + cell / 2)}" y="{_fmt(y + height / 2 + 4)}" font-size="13">{text}</text>'
            )
            rect = f'<rect x="{x}" y="{_fmt(y)}" width="{cell}" height="{_fmt(height)}" fill="{fill}"/>'
            if tips:
                rect = f"<title>{_x(tip)}</title>{rect}"
            target = href(a, b) if href is not None else None
            cells.append(f'<a href="{_x(target)}" class="kb-heatmap-cell">{rect}</a>' if target else rect)
        y += height
    body.append(f'<g stroke="#ffffff" stroke-width="2">{"".join(cells)}</g>')
    body.append(f'<g text-anchor="middle" fill="{INK}" pointer-events="none">{"".join(numbers)}</g>')
    legend = wrap_whole(
        "Each cell: claims both sources support or both oppose / claim pairs on which they clash"
        + (". A cell leads to what the two sources say." if href is not None else "."),
        56,
    )
    legend_y = y + 24
    body.append(_lines(20, legend_y, legend, HEATMAP_MIN_FONT, "start", MUTED))
    swatches = (("mostly agree", agreement_colour(6, 0)), ("mostly clash", agreement_colour(0, 6)))
    swatches += (("as much of both", agreement_colour(1, 1)), ("nothing shared", agreement_colour(0, 0)))
    swatch_y = legend_y + HEATMAP_LINE * (len(legend) - 1) + 12
    for k, (text, colour) in enumerate(swatches):
        sx, sy = 20 + 150 * (k % 2), swatch_y + 22 * (k // 2)
        body.append(
            f'<rect x="{sx}" y="{_fmt(sy)}" width="14" height="14" fill="{colour}" stroke="{NEUTRAL}"/>'
            f'<text x="{sx + 20}" y="{_fmt(sy + 11)}" font-size="{HEATMAP_MIN_FONT}" '
            f'fill="{INK}">{text}</text>'
        )
    width = max(label_width + n * cell + 20, 20 + round(_CHAR_WIDTH * 0.92 * 56) + 20, 340)
    height = swatch_y + 44 + 10
    return _svg(width, height, "Agreement between sources", body), ids
