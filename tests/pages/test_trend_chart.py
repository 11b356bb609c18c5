"""The server-drawn trend chart: where its lines fall in the box."""

import pytest

from backend.dashboard.svg import axis_top, trend_chart


@pytest.mark.parametrize(
    ("highest", "top"), [(0, 2), (1, 2), (9, 10), (16, 20), (40, 45), (100, 150), (400, 450)]
)
def test_the_axis_ends_on_a_round_number_above_the_highest_value(highest, top):
    assert axis_top(highest) == top


def test_a_full_program_draws_its_line_at_capacity_below_the_top():
    # given three days at 1, 2 and 2 of 2 beds
    chart = trend_chart([(1, 2), (2, 2), (2, 2)], width=300, height=80)

    # then the box goes up to 4, the days spread across it, and the lines meet at capacity
    assert chart.y_max == 4
    assert chart.occupied_points == "0,60 150,40 300,40"
    assert chart.capacity_points == "0,40 150,40 300,40"
    assert chart.area_points == "0,80 0,60 150,40 300,40 300,80"
    assert chart.view_box == "0 0 300 80"


def test_a_single_day_is_a_flat_line_across_the_box():
    chart = trend_chart([(3, 3)], width=300, height=80)

    assert chart.occupied_points == "0,20 300,20"


def test_an_empty_series_has_no_chart():
    with pytest.raises(ValueError):
        trend_chart([])
