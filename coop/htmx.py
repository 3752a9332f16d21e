"""What every view that serves htmx shares."""

from collections.abc import Callable

from django.views.decorators.vary import vary_on_headers


def varies_on_htmx[V: Callable](view: V) -> V:
    """For a view that answers a page or an htmx fragment from the same URL (it branches on
    `request.htmx`): every response it returns says `Vary: HX-Request`, so no browser or
    proxy cache serves the fragment for the page or the page for the fragment. Apply it to
    every such view; tests/coop/test_htmx.py checks that none is left out."""
    return vary_on_headers("HX-Request")(view)
