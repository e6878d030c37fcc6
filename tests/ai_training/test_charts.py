from __future__ import annotations

from datetime import date

import pytest

from ai.charts import line_chart_svg, nice_ticks


@pytest.mark.parametrize(
    "low, high, expected",
    [(0, 1, [0, 0.25, 0.5, 0.75, 1.0]), (0.13, 0.97, [0, 0.25, 0.5, 0.75, 1.0]), (0.021, 0.048, [0.02, 0.03, 0.04, 0.05]), (0, 100, [0, 25, 50, 75, 100])],
)
def test_nice_ticks(low, high, expected):
    assert nice_ticks(low, high) == pytest.approx(expected)


def test_a_line_per_series_with_a_legend_and_escaped_labels():
    svg = line_chart_svg(
        [("ctr <live>", [(date(2026, 11, 1), 0.02), (date(2026, 11, 2), 0.03)]), ("candidate", [(date(2026, 11, 1), 0.04), (date(2026, 11, 2), None), (date(2026, 11, 3), 0.05)])],
        title="CTR",
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<polyline") == 1 and svg.count("<circle") == 2  # the gap splits "candidate"
    assert "ctr &lt;live&gt;" in svg and "<live>" not in svg
    assert "2026-11-01" in svg


def test_no_points_gives_a_message_instead_of_a_chart():
    assert "No loss reported yet" in line_chart_svg([("loss", [])], empty_message="No loss reported yet")


def test_a_flat_series_still_draws():
    svg = line_chart_svg([("loss", [(1, 0.5), (2, 0.5), (3, 0.5)])])
    assert "<polyline" in svg and "nan" not in svg


@pytest.mark.parametrize("width", [320, 480, 640, 960])
def test_every_x_axis_label_fits_inside_the_chart(width):
    import re
    from datetime import date

    from ai.charts import CHAR_WIDTH

    svg = line_chart_svg([("sales", [(date(2026, 11, 1), 3.0), (date(2026, 12, 31), 5.0)])], width=width)
    labels = re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" fill="#444">(\d{4}-\d\d-\d\d)</text>', svg)
    assert len(labels) == 5 and labels[-1][1] == "2026-12-31"
    for x, text in labels:
        half = len(text) * CHAR_WIDTH / 2
        assert float(x) - half >= 0 and float(x) + half <= width
