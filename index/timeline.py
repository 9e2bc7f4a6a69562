"""An answer's quotes -> a timeline: publication order, grouped by day, or by week when the reports span
more than a month, with the articles per outlet per period that the chart draws."""

from __future__ import annotations

from datetime import date, timedelta

from index.models import Answer, Timeline, TimelinePeriod

# Excerpts in one timeline at most: one Discord message of embeds holds about this many short quotes.
TIMELINE_QUOTES = 10
WEEKLY_AFTER_DAYS = 31


def period(day: date, by: str) -> tuple[str, date]:
    if by == "week":
        monday = day - timedelta(days=day.weekday())
        year, week, _ = monday.isocalendar()
        return f"{year}-W{week:02d}", monday
    return day.isoformat(), day


def in_time_order(topic: str, answer: Answer) -> Timeline:
    """One quote per article, dated ones in order (the earliest report first), undated ones apart."""
    if answer.abstained:
        return Timeline(topic=topic, abstained=True, why=answer.why)
    dated = sorted(((q.published, q) for q in answer.quotes if q.published), key=lambda p: (p[0], p[1].outlet or ""))
    undated = [q for q in answer.quotes if q.published is None]
    days = [day for day, _ in dated]
    by = "week" if days and (days[-1] - days[0]).days > WEEKLY_AFTER_DAYS else "day"
    periods: dict[str, TimelinePeriod] = {}
    counts: dict[str, dict[str, int]] = {}
    seen: set[tuple[str, str]] = set()
    for day, quote in dated:
        label, start = period(day, by)
        periods.setdefault(label, TimelinePeriod(label=label, start=start)).quotes.append(quote)
        outlet = quote.outlet or "unknown outlet"
        if (quote.article_id, label) not in seen:
            seen.add((quote.article_id, label))
            counts.setdefault(outlet, {}).setdefault(label, 0)
            counts[outlet][label] += 1
    return Timeline(topic=topic, by=by, periods=list(periods.values()), undated=undated, counts=counts)
