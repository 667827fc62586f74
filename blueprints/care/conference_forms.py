"""The form of a case conference (个案会商): when and where, who sat, what was said, and up to
DECISION_ROWS decisions, each to become a measure. Which rows are complete, and the due dates, are
the service's rules (conferences.py): the form only reads what was typed."""
from __future__ import annotations

from wtforms import DateField, FieldList, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from blueprints.core.forms import (BaseForm, CheckboxListField, OnceForm, ValidationError, calendar_date, choices, max_length,
                                  required)
from blueprints.core.vocabulary import NEED_CATEGORIES

DECISION_ROWS = 5
# The minutes print on one page (print/conference.html): these limits keep them there.
SUMMARY_CHARS, SUMMARY_LINES = 500, 8


def summary_fits(form, field):
    if field.data and len(field.data.splitlines()) > SUMMARY_LINES:
        raise ValidationError(f"会商情况最多 {SUMMARY_LINES} 段，请合并几段（会商记录要打印在一页纸上）")


class DecisionForm(BaseForm):
    class Meta:
        csrf = False  # a part of the conference's form, which carries the token

    category = SelectField("需求类别", choices=choices([("", "请选择"), *NEED_CATEGORIES.items()]),
                           validators=[Optional()])
    action = StringField("措施", validators=[max_length("措施", 50)])
    department_id = SelectField("责任部门", coerce=str, validate_choice=False)
    owner_name = StringField("责任人", validators=[max_length("责任人", 20)])
    due_on = DateField("完成期限", validators=[Optional(), calendar_date("完成期限")])


class ConferenceForm(OnceForm):
    held_on = DateField("会商日期", validators=[required("会商日期"), calendar_date("会商日期", not_after_today=True)])
    place = StringField("地点", validators=[max_length("地点", 30)])
    # Read as typed: an unknown or a malformed value is the service's refusal, which names the field
    # (WTForms' own messages for these were English or did not say which field).
    departments = CheckboxListField("参会部门", coerce=str, validate_choice=False)
    attendees = TextAreaField("参会人员", validators=[max_length("参会人员", 120)], description="姓名和单位，例如：王芳（镇民政组）")
    summary = TextAreaField("会商情况", validators=[required("会商情况"), max_length("会商情况", SUMMARY_CHARS), summary_fits],
                            description="孩子的情况、各部门的意见")
    decisions = FieldList(FormField(DecisionForm), min_entries=DECISION_ROWS, max_entries=DECISION_ROWS)

    def set_departments(self, departments) -> None:
        """The 13 departments as checkboxes and as each decision's choices."""
        self.departments.choices = choices((str(d.id), d.name) for d in departments)
        options = choices([("", "不指定"), *((str(d.id), d.name) for d in departments)])
        for row in self.decisions:
            row.form.department_id.choices = options
