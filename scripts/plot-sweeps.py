#!/usr/bin/env python3
"""Plots the p99 of several `scripts/bench mix --sweep` runs on one chart (an SVG).

usage: scripts/plot-sweeps.py OUT.svg LABEL=RESULT.json [LABEL=RESULT.json ...]

Each RESULT.json is a mix benchmark's var/bench/mix-*.json (or mall-load's own --json, as
docs/bench/e42e897-compose.sh writes it); runs with the same LABEL share
a colour. The dashed line is the 50 ms p99 limit a sweep step must stay under.
"""
import json
import sys

W, H, L, R, T, B = 760, 420, 70, 190, 30, 50
COLOURS = ["#b2182b", "#2166ac", "#1b7837", "#762a83"]


def steps(path):
    """(offered rate, p99 ms, held) of every open-loop step of one sweep."""
    with open(path, encoding="utf-8") as f:
        result = json.load(f)
    load = result.get("load", result)
    out = []
    for run in load["runs"]:
        if run["spec"].get("mode") != "open":
            continue
        o = run["summary"]["overall"]
        out.append((run["spec"]["rate"], o["p99_ms"], o["errors"] == 0 and o["p99_ms"] <= 50))
    return out


def main(argv):
    if len(argv) < 3 or any("=" not in a for a in argv[2:]):
        sys.exit(__doc__)
    series = []
    for arg in argv[2:]:
        label, path = arg.split("=", 1)
        try:
            series.append((label, steps(path)))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            sys.exit(f"plot-sweeps: {path} is not a mix benchmark's result: {e!r}")
    if not any(s for _, s in series):
        sys.exit("plot-sweeps: no open-loop step in any result (was it run with --sweep?)")
    labels = list(dict.fromkeys(label for label, _ in series))
    xs = [x for _, s in series for x, _, _ in s]
    x0, x1 = min(xs) - 250, max(xs) + 250
    y1 = 200.0
    sx = lambda x: L + (x - x0) / (x1 - x0) * (W - L - R)
    sy = lambda y: T + (1 - min(y, y1) / y1) * (H - T - B)
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{L}" y="18">mix sweep: p99 against the offered rate (15 s per step; capped at {y1:.0f} ms)</text>']
    for y in range(0, int(y1) + 1, 25):
        svg.append(f'<line x1="{L}" x2="{W - R}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="#eee"/>')
        svg.append(f'<text x="{L - 8}" y="{sy(y) + 4:.1f}" text-anchor="end">{y}</text>')
    for x in sorted(set(xs)):
        svg.append(f'<text x="{sx(x):.1f}" y="{H - B + 18}" text-anchor="middle">{x:.0f}</text>')
    svg.append(f'<text x="{(L + W - R) / 2:.0f}" y="{H - 10}" text-anchor="middle">offered req/s</text>')
    svg.append(f'<text x="16" y="{(T + H - B) / 2:.0f}" transform="rotate(-90 16 {(T + H - B) / 2:.0f})" text-anchor="middle">p99 ms</text>')
    svg.append(f'<line x1="{L}" x2="{W - R}" y1="{sy(50):.1f}" y2="{sy(50):.1f}" stroke="black" stroke-dasharray="5,4"/>')
    for i, (label, s) in enumerate(series):
        c = COLOURS[labels.index(label) % len(COLOURS)]
        pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y, _ in s)
        svg.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-width="1.5" opacity="0.8"/>')
        for x, y, held in s:
            fill = c if held else "white"
            svg.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3.5" fill="{fill}" stroke="{c}"/>')
    for i, label in enumerate(labels):
        c, y = COLOURS[i % len(COLOURS)], T + 20 + 20 * i
        n = sum(1 for l, _ in series if l == label)
        svg.append(f'<line x1="{W - R + 15}" x2="{W - R + 35}" y1="{y}" y2="{y}" stroke="{c}" stroke-width="2"/>')
        svg.append(f'<text x="{W - R + 40}" y="{y + 4}">{label} ({n} sweeps)</text>')
    svg.append(f'<text x="{W - R + 15}" y="{T + 30 + 20 * len(labels)}">filled: step held</text>')
    svg.append("</svg>")
    with open(argv[1], "w", encoding="utf-8") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main(sys.argv)
