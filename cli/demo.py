"""`make demo`: the whole system on the embedded emulator, as a story a platform engineer can follow.

Every result printed is read back from the emulated APIs (the service, the URL map, the decision log in
Logging), never echoed from what the script asked for.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

import click


def run_demo(*, keep_going: bool = False, org: bool = False) -> int:
    """The single-project story, or with `org` the organization's (cli/demo_org.py)."""
    from cli import routes_view
    from cli.demo_actor import PROJECT, REGION, Story
    from cli.demo_org import ORG, play_org
    from cli.demo_story import checkup, play
    from cli.report_format import format_table
    from cli.report_summary import summarize
    from devstack.stack import LocalStack

    click.secho(
        "runway demo: the emulator stands in for Google Cloud; the three functions run as "
        "functions-framework servers, fed by the emulator's Eventarc.",
        bold=True,
    )
    started = time.monotonic()
    with LocalStack(project=PROJECT, region=REGION, org=ORG if org else None) as stack:
        feed = "an organization sink, a Pub/Sub topic and Pub/Sub triggers" if org else "audit-log triggers"
        click.echo(
            f"Local stack up in {time.monotonic() - started:.1f} s at {stack.url}: {feed} for "
            f"enforce_ingress and sync_routes, URL map runway-lb, Cloud Armor policy runway-edge."
        )
        story = Story(stack)
        if org:
            play_org(story)
        else:
            play(story)
            checkup(story)

        click.secho("\nRouting table (python main.py routes), read from the URL map:", bold=True)
        rows, default = routes_view.read_routes(story.compute, PROJECT, "runway-lb")
        click.echo(routes_view.as_table(rows, default))

        click.secho("\nReport (python main.py report), read from the decision log in Logging:", bold=True)
        from cli.report_read import fetch_decisions

        until = datetime.now(UTC) + timedelta(seconds=1)
        time.sleep(0.5)  # the last decision lines are still being shipped by the log agent
        summary = summarize(
            fetch_decisions(story.logging, PROJECT, story.started, until),
            since=story.started,
            until=until,
            project=PROJECT,
        )
        click.echo(format_table(summary))
        if keep_going:
            click.echo(f"\nStack still up at {stack.url}; Ctrl-C to stop.")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    if story.problems:
        click.secho(f"\nDemo finished with {len(story.problems)} unexpected result(s).", fg="red", bold=True)
        return 1
    click.secho(f"\nDemo finished in {time.monotonic() - started:.1f} s; everything stopped.", fg="green", bold=True)
    return 0


if __name__ == "__main__":
    sys.exit(run_demo())
