"""A timeline's articles per outlet per day or week, drawn as a PNG (matplotlib: the kept, offline
plotting library; its Agg backend needs no display)."""

from __future__ import annotations

import io

from index.models import Timeline


def timeline_chart(timeline: Timeline) -> bytes:
    """Stacked bars, one colour per outlet, periods in order; the caller attaches or writes the bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    labels = [p.label for p in timeline.periods]
    figure, axes = pyplot.subplots(figsize=(max(4.0, 0.6 * len(labels) + 2), 3.2), dpi=100)
    bottom = [0] * len(labels)
    for outlet, per_period in sorted(timeline.counts.items()):
        heights = [per_period.get(label, 0) for label in labels]
        axes.bar(labels, heights, bottom=bottom, label=outlet)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axes.set_ylabel("articles")
    axes.set_title(f"Coverage by {timeline.by}: {timeline.topic}"[:80], fontsize=9)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.tick_params(axis="x", labelrotation=45, labelsize=7)
    if timeline.counts:
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()
