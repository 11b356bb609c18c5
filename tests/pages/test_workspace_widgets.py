"""The workspaces' form renderer (backend/workspaces/widgets.py) writes widgets
and labels in Python: every field of the workspace forms comes out as Django's
own templates write it (the same elements, attributes, options and selection),
less the whitespace between tags, and a field row (field_row) keeps its help
and errors beside the widget. A Django upgrade that changes its templates
fails here, not silently on a page."""

import re
from types import SimpleNamespace
from uuid import uuid4

import pytest
from django import forms as django_forms
from django.forms.renderers import DjangoTemplates

from backend.workspaces import forms
from backend.workspaces.templatetags.workspaces import field_row
from backend.workspaces.widgets import PythonRenderer
from tests.pages.html import parse

DJANGO = DjangoTemplates()


def _program(name, site="North", available=2):
    return SimpleNamespace(
        pk=uuid4(),
        name=name,
        site=SimpleNamespace(name=site),
        available=available,
        capacity=10,
        occupied=10 - available,
        reserved=0,
    )


def _assignee(username, full_name=""):
    return SimpleNamespace(
        pk=uuid4(), username=username, open_follow_ups=3, get_full_name=lambda: full_name
    )


PROGRAMS = [_program("IOP"), _program('<Detox> & "more"', site="O'Hare", available=0)]
ASSIGNEES = [_assignee("ana", "Ana Díaz"), _assignee("bo")]


class Grouped(forms.WorkspaceForm):
    """What the page's forms do not have yet: groups, help text, a date, a value."""

    level = django_forms.ChoiceField(
        choices=[("Care", [("iop", "IOP"), ("php", "PHP")]), ("none", "None")],
        help_text="Where next.",
    )
    pick = django_forms.ChoiceField(choices=[("", "—"), ("a", "A")])
    on = django_forms.DateField(widget=django_forms.DateInput(attrs={"type": "date"}))
    name = django_forms.CharField(max_length=5)
    hidden = django_forms.CharField(widget=django_forms.HiddenInput, required=False)


def _cases():
    """(name, build): each builds one form with the renderer it is given."""
    kw = {"action": "/x/", "form_id": "f-1"}
    return [
        ("attempt", lambda r: forms.AttemptForm(renderer=r, **kw)),
        (
            "attempt with errors",
            lambda r: forms.AttemptForm({"channel": "fax", "notes": "<b>hi</b>"}, renderer=r, **kw),
        ),
        ("outcome", lambda r: forms.OutcomeForm(programs=PROGRAMS, renderer=r, **kw)),
        (
            "outcome with a referral chosen",
            lambda r: forms.OutcomeForm(
                {
                    "reached": "yes",
                    "refer_to_program": str(PROGRAMS[1].pk),
                    "needs_housing": "on",
                    "referral_notes": "soon",
                },
                programs=PROGRAMS,
                renderer=r,
                **kw,
            ),
        ),
        (
            "reassign with an assignee",
            lambda r: forms.ReassignForm(
                assignees=ASSIGNEES,
                initial={"assignee": str(ASSIGNEES[1].pk)},
                renderer=r,
                **kw,
            ),
        ),
        ("reassign to nobody", lambda r: forms.ReassignForm(assignees=ASSIGNEES, renderer=r, **kw)),
        (
            "groups, help text, a date, a value",
            lambda r: Grouped(
                {"level": "php", "on": "2026-01-31", "name": 'too "long"', "hidden": "x&y"},
                renderer=r,
                **kw,
            ),
        ),
    ]


def _tight(html: str) -> str:
    return re.sub(r">\s+<", "><", str(html))


@pytest.mark.parametrize("build", [b for _, b in _cases()], ids=[n for n, _ in _cases()])
def test_every_field_comes_out_as_djangos_templates_write_it(build):
    # given the same form rendered by our renderer and by Django's
    ours, theirs = build(PythonRenderer()), build(DJANGO)
    if "once" in ours.initial:  # an unbound form's fresh token
        theirs.initial["once"] = ours.initial["once"]
    if ours.is_bound:
        assert ours.is_valid() == theirs.is_valid()

    for name in ours.fields:
        # when each field's widget and label are written
        mine, django = ours[name], theirs[name]

        # then they are Django's, less the whitespace between tags
        assert _tight(mine) == _tight(django), name
        assert str(mine.label_tag()) == str(django.label_tag()), name


def test_a_select_keeps_its_attributes_options_and_selection():
    # given an outcome form with a referral chosen and "reached" missing
    form = forms.OutcomeForm(
        {"refer_to_program": str(PROGRAMS[1].pk)},
        programs=PROGRAMS,
        renderer=PythonRenderer(),
        action="/x/",
        form_id="outcome-1",
    )
    form.is_valid()

    # when its selects are written
    reached = parse(str(form["reached"])).find("select")
    refer = parse(str(form["refer_to_program"])).find("select")

    # then each has the id, name and error attributes Django gives it (no
    # required: Django leaves it off a select whose first option has a value)
    assert reached.attrs["id"] == "outcome-1-reached"
    assert reached.attrs["name"] == "reached"
    assert reached.attrs["aria-invalid"] == "true"
    assert reached.attrs["aria-describedby"] == "outcome-1-reached_error"
    assert "required" not in reached.attrs
    assert "aria-invalid" not in refer.attrs
    # and every choice, escaped, with the posted one selected
    options = [
        (o.attrs["value"], o.text(), "selected" in o.attrs) for o in refer.find_all("option")
    ]
    assert options == [
        ("", "—", False),
        (str(PROGRAMS[0].pk), "North · IOP (2 of 10 available)", False),
        (
            str(PROGRAMS[1].pk),
            'O\'Hare · <Detox> & "more" (no room: 10 occupied, 0 reserved of 10)',
            True,
        ),
    ]
    assert "&lt;Detox&gt; &amp; &quot;more&quot;" in str(form["refer_to_program"])


def test_help_text_groups_and_required_are_written():
    # given a form with help text, groups and a required select with an empty first option
    form = Grouped(renderer=PythonRenderer(), action="/x/", form_id="g-1")

    # when it is written
    level = parse(str(form["level"])).find("select")
    pick = parse(str(form["pick"])).find("select")

    # then the widget points at the help text, as Django's does
    assert level.attrs["aria-describedby"] == "g-1-level_helptext"
    assert [g.attrs["label"] for g in level.find_all("optgroup")] == ["Care"]
    assert [o.attrs["value"] for o in level.find_all("option")] == ["iop", "php", "none"]
    # and a select that can be left empty is required
    assert "required" in pick.attrs
    assert pick.attrs["id"] == "g-1-pick"


def test_a_field_row_puts_help_and_errors_beside_the_widget_that_names_them():
    # given a bound form whose field with help text is invalid
    form = Grouped(
        {"level": "nope", "on": "2026-01-31", "name": "ok", "pick": "a"},
        renderer=PythonRenderer(),
        action="/x/",
        form_id="g-2",
    )
    assert not form.is_valid()

    # when its row is written
    row = parse(field_row(form["level"])).find("div")

    # then the row is marked, and the widget names the help text and the error beside it
    assert row.classes == {"field", "has-error"}
    select = row.find("select")
    assert select.attrs["aria-invalid"] == "true"
    described = select.attrs["aria-describedby"].split()
    assert described == ["g-2-level_helptext", "g-2-level_error"]
    assert row.find("small", id="g-2-level_helptext").text() == "Where next."
    assert "not one of the available choices" in row.find("p", id="g-2-level_error").text()
    assert row.find("label").attrs["for"] == "g-2-level"

    # and a checkbox comes before its label
    outcome = forms.OutcomeForm(programs=PROGRAMS, action="/x/", form_id="o-1")
    check = field_row(outcome["needs_housing"])
    assert check.startswith('<div class="field check"><input type="checkbox"')
