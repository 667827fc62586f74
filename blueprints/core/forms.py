"""Validators whose messages name the field and say how to fix it, in Chinese."""
from __future__ import annotations

import re
import secrets

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto, SUBMIT_METHODS  # FlaskForm's "read the request" default
from werkzeug.datastructures import CombinedMultiDict
from wtforms import HiddenField, PasswordField, SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp, ValidationError

from blueprints.core.clock import local_today
from blueprints.core.inputs import FIRST_YEAR, LAST_YEAR, in_calendar
from blueprints.core.text import clean_text

__all__ = ["required", "max_length", "Optional", "phone_number", "calendar_date", "ValidationError",
           "InputRequired", "choices"]


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the options WTForms wants (tuples are deprecated there)."""
    return [SelectChoice(value, label) for value, label in pairs]


def required(label: str) -> DataRequired:
    return DataRequired(message=f"请填写{label}")


def max_length(label: str, limit: int, minimum: int = -1) -> Length:
    if minimum > 0:
        return Length(min=minimum, max=limit, message=f"{label}应为 {minimum}–{limit} 个字符")
    return Length(max=limit, message=f"{label}最多 {limit} 个字，请删减")


def calendar_date(label: str, not_after_today: bool = False):
    """Every date field: within the years the house deals in (the API and the import refuse the same,
    blueprints/core/inputs.py), and for what has already happened, not after today (the town's day)."""

    def check(form, field):
        day = field.data
        if day is None:
            return
        if not_after_today and day > local_today():
            raise ValidationError(f"{label}不能晚于今天")
        if not in_calendar(day):
            raise ValidationError(f"{label}应在 {FIRST_YEAR} 年到 {LAST_YEAR} 年之间，请核对年份")

    return check


# A mobile (11 digits, 13x–19x) or a landline with its area code: the one rule for forms and imports.
PHONE = re.compile(r"1[3-9]\d{9}|0\d{2,3}-?\d{7,8}")


def phone_number(label: str = "电话") -> Regexp:
    return Regexp(
        rf"^({PHONE.pattern})?$",
        message=f"{label}应为 11 位手机号或带区号的固定电话，例如 13812345678 或 0530-1234567",
    )


def _clean_one_line(value):
    return clean_text(value) if isinstance(value, str) else value


def _clean_multiline(value):
    return clean_text(value, multiline=True) if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Every form of the app: WTForms' own messages (bad date, bad choice…) in Chinese, and every
    text field cleaned of control characters before it is validated (blueprints/core/text.py)."""

    class Meta:
        locales = ["zh"]

        def wrap_formdata(self, form, formdata):
            # A post is the form as sent: an empty one is empty (FlaskForm would hand WTForms None, which
            # then validates the record's own values, e.g. a school's villages as objects, not ids), and
            # a JSON body is not read (a list or nested values there were a 500).
            if formdata is _Auto and request and request.method in SUBMIT_METHODS:
                return CombinedMultiDict((request.files, request.form))
            return super().wrap_formdata(form, formdata)

        def bind_field(self, form, unbound_field, options):
            field_class = unbound_field.field_class
            if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
                cleaner = _clean_multiline if issubclass(field_class, TextAreaField) else _clean_one_line
                options["filters"] = [cleaner, *unbound_field.kwargs.get("filters", ())]
            return unbound_field.bind(form=form, **options)


# A form's token, as secrets.token_urlsafe makes it (OnceField: 32 characters).
ONCE_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


class OnceField(HiddenField):
    """The token of one rendering of a creating form (blueprints/core/once.py): new on a first
    rendering, the same when the form comes back with errors."""

    claimed = None  # its FormSubmission once the route has claimed it

    def __init__(self, label="", **kwargs):
        # no id: a page may hold several such forms
        super().__init__(label, default=lambda: secrets.token_urlsafe(24), render_kw={"id": False}, **kwargs)

    def process_formdata(self, valuelist):
        if self.token is not None:  # a malformed one is not sent back: the re-rendered form gets a fresh one
            self.data = valuelist[0]

    @property
    def token(self) -> str | None:
        """The token as posted, None when missing or malformed."""
        value = self.raw_data[0] if self.raw_data else None
        return value if isinstance(value, str) and ONCE_TOKEN.fullmatch(value) else None


class OnceForm(BaseForm):
    """A form that creates a record: sent twice, it stores one (blueprints/core/once.py)."""

    once = OnceField()


class CheckboxListField(SelectMultipleField):
    """Several choices as checkboxes: easier to tap on a phone than a multi-select."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FieldErrors(ValueError):
    """Bad input a service finds that the form alone cannot see (a capacity, a rule across records):
    {field: message}, shown beside the fields by add_errors."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("；".join(errors.values()))
        self.errors = errors


def add_errors(form, errors: dict[str, str]) -> None:
    """A service's {field: message} beside the form's fields (each message names one of them)."""
    for name, message in errors.items():
        form[name].errors = [*form[name].errors, message]
