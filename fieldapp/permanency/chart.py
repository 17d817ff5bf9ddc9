"""Goal reviews completed on time per quarter, drawn as an SVG image (no script, no inline style),
in the manner of the compliance trend (`team/chart.py`). `002` § Record keeping."""

from __future__ import annotations

from xml.sax.saxutils import escape

from ..services.permanency_mds import QuarterPoint

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 24, 24, 56
TITLE = "Permanency goal reviews completed on time, by quarter"


def review_trend_svg(points: list[QuarterPoint]) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" '
        'font-family="system-ui, sans-serif" font-size="12">',
        f"<title>{escape(TITLE)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    for percent in (0, 25, 50, 75, 100):
        y = TOP + plot_h * (1 - percent / 100)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d5dbe1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'fill="#5a6470">{percent}%</text>'
        )
    for index, point in enumerate(points):
        x = LEFT + index * slot
        share = point.share_on_time
        label = escape(point.quarter)
        if share is None:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{TOP + plot_h - 6:.1f}" text-anchor="middle" '
                f'fill="#5a6470">none due</text>'
            )
        else:
            bar_h = plot_h * share
            parts.append(
                f'<rect x="{x + slot * 0.15:.1f}" y="{TOP + plot_h - bar_h:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{bar_h:.1f}" fill="#1f4e5f">'
                f"<title>{label}: {round(share * 100)}% on time "
                f"({point.reviews_on_time} of {point.reviews_due})</title></rect>"
            )
        parts.append(
            f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'fill="#1b1f23">{label}</text>'
        )
    legend_y = HEIGHT - 14
    parts.append(f'<rect x="{LEFT}" y="{legend_y - 10}" width="12" height="12" fill="#1f4e5f"/>')
    parts.append(
        f'<text x="{LEFT + 18}" y="{legend_y}">Share of goal reviews due in the quarter that '
        "were completed on time</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


def review_trend_summary(points: list[QuarterPoint]) -> str:
    """Text alternative for the chart."""
    described = []
    for point in points:
        share = point.share_on_time
        described.append(
            f"{point.quarter}: "
            + (
                f"{point.reviews_on_time} of {point.reviews_due} on time ({round(share * 100)}%)"
                if share is not None
                else "no reviews due"
            )
        )
    return f"Last {len(points)} quarters. " + "; ".join(described) + "."
