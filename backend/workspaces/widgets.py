"""A form renderer that writes the common widgets and labels in Python, for
pages with a form on every row.

Django renders each widget and label through a template, and each option of a
select through two more (the option and its attributes). The follow-up queue
shows up to 150 rows with three forms each, a program select and an assignee
select among them: about 15,000 template renders, most of the page's time
(docs/performance.md, "The follow-up queue"). This renderer takes the context
Django builds for those templates (`get_context`: the id, name, required,
aria-describedby and aria-invalid, the selected options) and writes the same
elements in Python, escaped as Django's templates would, less the blank lines
between options. Any other template goes to Django's own renderer.
tests/pages/test_workspace_widgets.py compares its output with Django's,
field by field, so it cannot drift from a Django upgrade unnoticed.
"""

import html

from django.forms.renderers import DjangoTemplates
from django.utils.safestring import SafeString, mark_safe

WIDGETS = "django/forms/widgets/"
# The widget templates that are only {% include "django/forms/widgets/input.html" %}.
INPUTS = ("text", "email", "date", "time", "number", "hidden", "checkbox", "password", "url")


def esc(value) -> str:
    """conditional_escape, without its lazy-string wrapper (called ~40,000
    times on the follow-up queue): safe text as it is, the rest escaped."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def attrs_html(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: ` name="value"`, a bare ` name` for
    True, nothing for False."""
    return "".join(
        f" {esc(name)}" if value is True else f' {esc(name)}="{esc(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def input_html(context: dict) -> SafeString:
    """django/forms/widgets/input.html."""
    widget = context["widget"]
    value = "" if widget["value"] is None else f' value="{esc(widget["value"])}"'
    return mark_safe(
        f'<input type="{esc(widget["type"])}" name="{esc(widget["name"])}"{value}'
        f"{attrs_html(widget['attrs'])}>"
    )


def textarea_html(context: dict) -> SafeString:
    """django/forms/widgets/textarea.html (the newline after the start tag is
    the template's: a browser drops it)."""
    widget = context["widget"]
    return mark_safe(
        f'<textarea name="{esc(widget["name"])}"{attrs_html(widget["attrs"])}>\n'
        f"{esc(widget['value'] or '')}</textarea>"
    )


def option_html(option: dict) -> str:
    """django/forms/widgets/select_option.html."""
    return (
        f'<option value="{esc(option["value"])}"{attrs_html(option["attrs"])}>'
        f"{esc(option['label'])}</option>"
    )


def select_html(context: dict) -> SafeString:
    """django/forms/widgets/select.html, without its blank lines and indents."""
    widget = context["widget"]
    parts = [f'<select name="{esc(widget["name"])}"{attrs_html(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'<optgroup label="{esc(group_name)}">')
        parts.extend(option_html(option) for option in group_choices)
        if group_name:
            parts.append("</optgroup>")
    parts.append("</select>")
    return mark_safe("".join(parts))


def label_html(context: dict) -> SafeString:
    """django/forms/label.html."""
    if not context["use_tag"]:
        return mark_safe(esc(context["label"]))
    tag = esc(context["tag"])
    return mark_safe(f"<{tag}{attrs_html(context['attrs'])}>{esc(context['label'])}</{tag}>")


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
