"""My day: the signed-in person's meetings, tasks and deals that need them, in one page; a
manager picks a member of their teams (or all of them) with `who`. The dashboard loads its
`#day` fragment in place."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from coop.htmx import varies_on_htmx
from coop.page_cache import cached_page
from coop.visibility import visible_users
from crm.day import day_people, my_day


@require_GET
@cached_page
@varies_on_htmx
def my_day_view(request: HttpRequest) -> HttpResponse:
    who = request.GET.get("who", "")
    people = day_people(request.user, who)
    error = ""
    if people is None:
        error = gettext("You can see your own day and your team members' days only.")
        people, who = [request.user], ""
    day = my_day(viewer=request.user, people=people)
    # A manager (or staff) may pick whose day; one more query, only for them.
    choices = list(visible_users(request.user).order_by("display_name", "username")[:200])
    context = {
        "day": day,
        "who": who,
        "error": error,
        "choices": choices if len(choices) > 1 else [],
    }
    template = "crm/my_day.html#day" if request.htmx else "crm/my_day.html"
    return render(request, template, context)
