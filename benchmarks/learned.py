"""Learned against configured stage probabilities on the large demo data, whose outcomes were
drawn from stated true probabilities (`crm.demo.TRUE_WIN_PERCENT`): per pipeline, the Brier
score of each on the deals closed in the held-out months (the last HELD_OUT_DAYS), learned
from the deals closed before, and the monthly forecast's MAPE with each
(`finance.learned.pipeline_calibration`); and how long a refit of the team takes.

python -m benchmarks.learned   (after `make bench-data`; `make bench` runs it too)
"""

import datetime
import time

HELD_OUT_DAYS = 180


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def learned_accuracy(team) -> list[str]:
    """The Markdown table of the comparison, one row per pipeline of `team`."""
    from django.utils import timezone

    from finance.learned import pipeline_calibration
    from finance.services import learned_probabilities_refit

    started = time.perf_counter()
    records = learned_probabilities_refit(team=team)
    refit_ms = 1000 * (time.perf_counter() - started)
    cutoff = timezone.localdate() - datetime.timedelta(days=HELD_OUT_DAYS)
    table = [
        f"| learned probabilities, held out from {cutoff} (deals closed since) | trained on "
        "| held out | months | Brier configured | Brier learned | MAPE configured "
        "| MAPE learned |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for pipeline in team.pipelines.order_by("name"):
        c = pipeline_calibration(pipeline, cutoff)
        brier = [("—" if b is None else f"{b:.4f}") for b in (c.brier_configured, c.brier_learned)]
        table.append(
            f"| {pipeline.name} ({pipeline.currency}) | {c.trained_on:,} | {c.held_out:,} "
            f"| {c.months} | {brier[0]} | {brier[1]} | {_percent(c.mape_configured)} "
            f"| {_percent(c.mape_learned)} |"
        )
    table += [
        "",
        f"Refit of the team's learned probabilities: {refit_ms:,.0f} ms, {records} records "
        "(one aggregate query over the stage visits, then the records replaced).",
    ]
    return table


def main() -> None:
    from benchmarks.setup import django_setup

    django_setup()
    from coop.demo import DEMO_TEAM
    from coop.models import Team

    print("\n".join(learned_accuracy(Team.objects.get(name=DEMO_TEAM))))


if __name__ == "__main__":
    main()
