"""Calendar arithmetic shared by the review workflow and the public pages."""

import calendar


def add_months(moment, months):
    """``moment`` plus whole calendar months, clamping the day (31 Jan + 1 month = 28/29 Feb)."""
    year, month_index = divmod(moment.month - 1 + months, 12)
    year += moment.year
    month = month_index + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))
