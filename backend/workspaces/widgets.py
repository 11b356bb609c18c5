"""A form renderer that writes the common widgets and labels in Python, for
pages with a form on every row.

Django renders each widget and label through a template, and each option of a
select through two more (the option and its attributes). The follow-up queue
shows up to 150 rows with three forms each, a program select and an assignee
select among them: about 15,000 template renders, most of the page's time
(docs/performance.md, "The follow-up queue"). This renderer takes the context
Django builds for those templates (`get_context`: the id, name, required,
aria-describedby and aria-invalid, the selected options) and writes the same
elements with format_html, as Django's templates would, less the blank lines
between options. Any other template goes to Django's own renderer.
tests/pages/test_workspace_widgets.py compares its output with Django's,
field by field, so it cannot drift from a Django upgrade unnoticed.
"""

from django.forms.renderers import DjangoTemplates
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDGETS = "django/forms/widgets/"
# The widget templates that are only {% include "django/forms/widgets/input.html" %}.
INPUTS = ("text", "email", "date", "time", "number", "hidden", "checkbox", "password", "url")


def attrs_html(attrs: dict) -> SafeString:
    """django/forms/widgets/attrs.html: ` name="value"`, a bare ` name` for
    True, nothing for False."""
    return format_html_join(
        "",
        " {}{}",
        (
            (name, "" if value is True else format_html('="{}"', value))
            for name, value in attrs.items()
            if value is not False
        ),
    )


def input_html(context: dict) -> SafeString:
    """django/forms/widgets/input.html."""
    widget = context["widget"]
    value = widget["value"]
    return format_html(
        '<input type="{}" name="{}"{}{}>',
        widget["type"],
        widget["name"],
        "" if value is None else format_html(' value="{}"', value),
        attrs_html(widget["attrs"]),
    )


def textarea_html(context: dict) -> SafeString:
    """django/forms/widgets/textarea.html (the newline after the start tag is
    the template's: a browser drops it)."""
    widget = context["widget"]
    return format_html(
        '<textarea name="{}"{}>\n{}</textarea>',
        widget["name"],
        attrs_html(widget["attrs"]),
        widget["value"] or "",
    )


def option_html(option: dict) -> SafeString:
    """django/forms/widgets/select_option.html."""
    return format_html(
        '<option value="{}"{}>{}</option>',
        option["value"],
        attrs_html(option["attrs"]),
        option["label"],
    )


def select_html(context: dict) -> SafeString:
    """django/forms/widgets/select.html, without its blank lines and indents."""
    widget = context["widget"]
    parts = [format_html('<select name="{}"{}>', widget["name"], attrs_html(widget["attrs"]))]
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(format_html('<optgroup label="{}">', group_name))
        parts.extend(option_html(option) for option in group_choices)
        if group_name:
            parts.append("</optgroup>")
    parts.append("</select>")
    return mark_safe("".join(parts))


def label_html(context: dict) -> SafeString:
    """django/forms/label.html."""
    if not context["use_tag"]:
        return format_html("{}", context["label"])
    return format_html(
        "<{}{}>{}</{}>",
        context["tag"],
        attrs_html(context["attrs"]),
        context["label"],
        context["tag"],
    )


WRITERS = {
    **{f"{WIDGETS}{name}.html": input_html for name in INPUTS},
    f"{WIDGETS}input.html": input_html,
    f"{WIDGETS}textarea.html": textarea_html,
    f"{WIDGETS}select.html": select_html,
    "django/forms/label.html": label_html,
}


class PythonRenderer(DjangoTemplates):
    """Django's form renderer, with the templates above written in Python."""

    def render(self, template_name, context, request=None):
        writer = WRITERS.get(template_name)
        if writer is None:
            return super().render(template_name, context, request=request)
        return writer(context)
