"""The 12-month compliance trend drawn as an SVG image (no script, no inline style)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from ..services.compliance_report import MonthPoint

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 48, 24, 56


def trend_svg(points: list[MonthPoint]) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(points), 1)
    max_gaps = max([p.gaps for p in points] + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" '
        'font-family="system-ui, sans-serif" font-size="12">',
        "<title>Share of children not overdue at each month end, "
        "and gaps longer than six weeks</title>",
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
    gap_points = []
    for index, point in enumerate(points):
        x = LEFT + index * slot
        share = point.share_not_overdue
        if share is not None:
            bar_h = plot_h * share
            parts.append(
                f'<rect x="{x + slot * 0.15:.1f}" y="{TOP + plot_h - bar_h:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{bar_h:.1f}" fill="#1f4e5f">'
                f"<title>{point.month_end:%b %Y}: {round(share * 100)}% not overdue "
                f"({point.not_overdue} of {point.children_in_care})</title></rect>"
            )
        label = escape(point.month_end.strftime("%b"))
        parts.append(
            f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'fill="#1b1f23">{label}</text>'
        )
        gy = TOP + plot_h * (1 - point.gaps / max_gaps)
        gap_points.append((x + slot / 2, gy, point))
    if gap_points:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in gap_points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="#b3261e" stroke-width="3"/>')
        for x, y, point in gap_points:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="#b3261e">'
                f"<title>{point.month_end:%b %Y}: {point.gaps} gaps</title></circle>"
            )
        parts.append(
            f'<text x="{WIDTH - RIGHT + 6}" y="{TOP + 4}" fill="#b3261e">{max_gaps}</text>'
        )
        parts.append(
            f'<text x="{WIDTH - RIGHT + 6}" y="{TOP + plot_h + 4}" fill="#b3261e">0</text>'
        )
    legend_y = HEIGHT - 14
    parts.append(f'<rect x="{LEFT}" y="{legend_y - 10}" width="12" height="12" fill="#1f4e5f"/>')
    parts.append(f'<text x="{LEFT + 18}" y="{legend_y}">Children not overdue at month end</text>')
    parts.append(
        f'<line x1="{LEFT + 270}" x2="{LEFT + 294}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
        'stroke="#b3261e" stroke-width="3"/>'
    )
    parts.append(f'<text x="{LEFT + 300}" y="{legend_y}">Gaps over six weeks (right scale)</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def trend_summary(points: list[MonthPoint]) -> str:
    """Text alternative for the chart."""
    described = []
    for point in points:
        share = point.share_not_overdue
        described.append(
            f"{point.month_end:%b %Y}: "
            + (f"{round(share * 100)}% not overdue" if share is not None else "no children")
            + f", {point.gaps} gap{'s' if point.gaps != 1 else ''}"
        )
    return "Last 12 months. " + "; ".join(described) + "."
