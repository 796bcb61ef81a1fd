"""`flask deadline` prints when a period ends; the calculator page says the same."""

import re
from datetime import date

import pytest

from portal.services import holidays, setup
from tests.conftest import PASSWORD
from tests.services.helpers import REQ

# (from date, days, business days, roll) → the end, as the command prints it.
CASES = [
    # The example: ten calendar days from Tuesday, November 24, 2026.
    (("2026-11-24", 10, False, False), "2026-12-04T23:59:59-08:00"),
    # Daylight saving starts March 8, 2026 inside the period: the end is on PDT.
    (("2026-03-01", 10, False, False), "2026-03-11T23:59:59-07:00"),
    # Daylight saving ends November 1, 2026 inside the period: the end is on PST.
    (("2026-10-25", 10, False, False), "2026-11-04T23:59:59-08:00"),
    # The last day is Christmas (a Friday holiday): no roll keeps it, roll moves to Monday.
    (("2026-12-15", 10, False, False), "2026-12-25T23:59:59-08:00"),
    (("2026-12-15", 10, False, True), "2026-12-28T23:59:59-08:00"),
    # Business days skip the weekend and Christmas.
    (("2026-12-22", 5, True, False), "2026-12-30T23:59:59-08:00"),
    # Thirty days over the year end land on Sunday, January 17, 2027; the Monday after is
    # Martin Luther King Jr. Day, so the roll goes on to Tuesday.
    (("2026-12-18", 30, False, True), "2027-01-19T23:59:59-08:00"),
]


def run(app, from_date: str, days: int, business: bool, roll: bool) -> str:
    args = ["deadline", from_date, str(days), "--roll" if roll else "--no-roll"]
    if business:
        args.append("--business-days")
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    return result.output.strip()


@pytest.fixture
def calendar(app):
    setup.initialize()  # the lead agency and the federal holidays, as `flask init` makes them


@pytest.mark.parametrize(("given", "expected"), CASES)
def test_deadline_command_prints_the_end_with_its_offset(app, calendar, given, expected):
    assert run(app, *given) == expected


def test_calculator_page_and_command_agree(client, app, cast, auth):
    auth.login("ed@hope.test")
    for (from_date, days, business, roll), expected in CASES:
        query = {"given_on": from_date, "days": days}
        if business:
            query["business_days"] = "y"
        if roll:
            query["roll"] = "y"
        page = client.get("/calculator", query_string=query).get_data(as_text=True)
        shown = re.search(r"As ISO 8601: <code>([^<]+)</code>", page).group(1)
        assert shown == run(app, from_date, days, business, roll) == expected
        assert "counted from the day after notice" in page


def test_an_ssf_holiday_moves_both(client, app, cast, auth):
    # Thursday, December 24, 2026 becomes a holiday: five business days from the 21st end
    # on the 30th instead of the 29th.
    before = run(app, "2026-12-21", 5, True, False)
    assert before == "2026-12-29T23:59:59-08:00"
    holidays.add(cast.admin, date(2026, 12, 24), "Christmas Eve", request=REQ)
    assert run(app, "2026-12-21", 5, True, False) == "2026-12-30T23:59:59-08:00"
    auth.login("admin@ssf.test", PASSWORD)
    page = client.get(
        "/calculator", query_string={"given_on": "2026-12-21", "days": 5, "business_days": "y"}
    ).get_data(as_text=True)
    assert "2026-12-30T23:59:59-08:00" in page and "Wednesday, December 30, 2026" in page


def test_calculator_explains_bad_input_and_needs_login(client, app, cast, auth):
    assert client.get("/calculator").status_code == 302
    auth.login("ed@hope.test")
    blank = client.get("/calculator").get_data(as_text=True)
    assert "The period ends" not in blank and 'name="given_on"' in blank
    bad = client.get("/calculator", query_string={"given_on": "2026-11-24", "days": 0})
    assert "Between 1 and 3650 days." in bad.get_data(as_text=True)
    assert "The period ends" not in bad.get_data(as_text=True)


def test_deadline_command_refuses_bad_input(app, calendar):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["deadline", "24/11/2026", "10"]).exit_code == 2
    assert runner.invoke(args=["deadline", "2026-11-24", "0"]).exit_code == 2
