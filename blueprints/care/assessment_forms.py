"""The forms of guardianship assessment and urgent flags. The assessment and the scale have one
field per item, so their classes are made for the items of the day (assessment_form, scale_form);
the rules across fields (every item answered, thresholds in order) are the services'."""
from __future__ import annotations

from wtforms import (BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import Optional

from blueprints.care.assessments import item_field
from blueprints.core.forms import BaseForm, OnceForm, CheckboxListField, calendar_date, choices, max_length, required
from blueprints.core.vocabulary import ASSESSMENT_ANSWERS, INTERVENTIONS, NEED_CATEGORIES

ANSWER_CHOICES = [(str(code), name) for code, name in ASSESSMENT_ANSWERS.items()]
NEED_CHOICES = [("", "不对应需求"), *NEED_CATEGORIES.items()]


class AssessmentForm(OnceForm):
    assessed_on = DateField("评估日期", validators=[required("评估日期"), calendar_date("评估日期", not_after_today=True)])
    note = TextAreaField("说明", validators=[max_length("说明", 1000)],
                         description="谁在场、孩子和监护人怎么说、需要特别说明的情况")

    def answers(self, items) -> dict[int, int | None]:
        values = {}
        for item in items:
            raw = self[item_field(item.id)].data
            values[item.id] = int(raw) if raw in {c for c, _ in ANSWER_CHOICES} else None
        return values


def assessment_form(items, formdata=None):
    """The assessment form asking `items` (each a radio of 具备/部分具备/缺失; the service says
    which one is missing, by its number and text)."""

    class Form(AssessmentForm):
        pass

    for number, item in enumerate(items, start=1):
        setattr(Form, item_field(item.id), RadioField(f"{number}. {item.text}", choices=choices(ANSWER_CHOICES),
                                                     validate_choice=False, description=item.help or None))
    return Form(formdata=formdata)


class InterventionsForm(BaseForm):
    interventions = CheckboxListField("干预措施", choices=choices(INTERVENTIONS.items()), validate_choice=False)


def scale_form(items, formdata=None):
    """The scale: each item's text, weight, need category, order and whether it is asked; an empty
    row ("new") to add one; the two thresholds."""

    class Form(BaseForm):
        capable = IntegerField("“有能力”的最低百分比", validators=[Optional()], description="得分百分比达到它即“有能力”")
        partial = IntegerField("“部分缺失”的最低百分比", validators=[Optional()],
                               description="达到它即“部分缺失”，低于它为“严重缺失”")

    rows = [(item.id, f"第 {number} 项") for number, item in enumerate(items, start=1)] + [("new", "新增项目")]
    for key, label in rows:
        setattr(Form, item_field(key, "text"), StringField(f"{label}的内容",
                                                           description="不新增就留空" if key == "new" else None))
        setattr(Form, item_field(key, "weight"), IntegerField(f"{label}的权重", validators=[Optional()],
                                                              description="1 到 5"))
        setattr(Form, item_field(key, "need_category"), SelectField(f"{label}的对应需求", choices=choices(NEED_CHOICES)))
        setattr(Form, item_field(key, "position"), IntegerField(f"{label}的顺序", validators=[Optional()]))
        if key != "new":
            setattr(Form, item_field(key, "active"), BooleanField("启用"))
    return Form(formdata=formdata)


class UrgentForm(OnceForm):
    situation = TextAreaField("情况说明", validators=[required("情况说明"), max_length("情况说明", 1000)],
                              description="孩子现在在哪里、谁在身边、有什么危险、已经做了什么")
    assessment_id = HiddenField()


class ActionForm(BaseForm):
    action_taken = TextAreaField("处置情况", validators=[required("处置情况"), max_length("处置情况", 1000)],
                                 description="采取了什么措施：谁去了现场、孩子现在由谁照料")
