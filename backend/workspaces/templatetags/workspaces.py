"""Presentation helpers of the workspace templates (no rules: how to write a
duration, a site-local time)."""

import datetime as dt
from functools import lru_cache
from uuid import UUID

from django import template
from django.urls import get_script_prefix, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

_ANY_CLIENT = UUID(int=0)


@lru_cache(maxsize=8)
def _client_url_around(script_prefix: str) -> tuple[str, str]:
    """What reverse() puts before and after a client's id in the client page's URL."""
    head, _, tail = reverse("workspaces:client", args=[_ANY_CLIENT]).partition(str(_ANY_CLIENT))
    return head, tail


@register.filter
def client_url(client_id) -> str:
    """`{% url 'workspaces:client' id %}` for a page that links hundreds of clients:
    reversed once (per script prefix), then the id put in; the same URL."""
    head, tail = _client_url_around(get_script_prefix())
    return f"{head}{UUID(str(client_id))}{tail}"


@register.filter
def span(value: dt.timedelta | None) -> str:
    """A duration as people say it: "3 d 4 h", "2 h 10 min", "5 min"."""
    if value is None:
        return ""
    seconds = abs(int(value.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


class SiteTime(dt.datetime):
    """An instant already in its site's zone. Django's `date` and `time` filters
    convert an aware datetime to the request's zone (UTC here) unless it says
    `convert_to_local_time = False`, which this one does."""

    convert_to_local_time = False


@register.filter
def local(value: dt.datetime | None, zone) -> dt.datetime | None:
    """An instant in a site's time zone (a Site, or a zone name), which the
    `date` filter then writes as the site's clock shows it."""
    if value is None:
        return None
    from zoneinfo import ZoneInfo

    name = getattr(zone, "time_zone", zone)
    at_site = value.astimezone(ZoneInfo(name))
    return SiteTime.combine(at_site.date(), at_site.timetz())


@register.filter
def words(code: str) -> str:
    """A stable code ("step_down") as words ("Step down")."""
    return str(code).replace("_", " ").capitalize()


@register.filter
def final(rows):
    """The last of some rows (a prefetched queryset, which `last` cannot index)."""
    rows = list(rows)
    return rows[-1] if rows else None


@register.simple_tag
def field_row(field) -> str:
    """One field of an action form (partials/form.html): its label and widget,
    its help text, and its errors beside it, which the widget names in its
    aria-describedby. Written in Python, not as a loop of the template: the
    follow-up queue writes some 1,500 of them (docs/performance.md)."""
    errors = field.errors
    checkbox = field.widget_type == "checkbox"
    classes = "field" + (" has-error" if errors else "") + (" check" if checkbox else "")
    widget, label = str(field), str(field.label_tag())
    parts = [f'<div class="{classes}">', f"{widget} {label}" if checkbox else f"{label} {widget}"]
    if field.help_text:
        parts.append(
            format_html(
                '<small class="help" id="{}_helptext">{}</small>', field.auto_id, field.help_text
            )
        )
    parts.extend(
        format_html('<p class="error field-error" id="{}_error">{}</p>', field.auto_id, error)
        for error in errors
    )
    parts.append("</div>")
    return mark_safe("".join(parts))
