"""The forms of the care plan: a need typed in, a need resolved (met or no longer needed), a measure
added and a measure changed (its fields, its state with the outcome or the reason). The rules
across records (which measures are still open, a due date moved into the past, a referral still
with a department) are the service's (plan.py)."""
from __future__ import annotations

from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField

from blueprints.core.forms import BaseForm, OnceForm, calendar_date, choices, max_length, required
from blueprints.core.vocabulary import MEASURE_STATES, NEED_CATEGORIES, NEED_STATES

RESOLUTIONS = [(code, NEED_STATES[code]) for code in ("met", "closed")]  # how an open need ends


class NeedForm(OnceForm):
    category = SelectField("需求类别", choices=choices([("", "请选择"), *NEED_CATEGORIES.items()]),
                           validators=[required("需求类别")])
    description = TextAreaField("具体情况", validators=[required("具体情况"), max_length("具体情况", 500)],
                                description="孩子和家庭缺什么、难在哪里")


class ResolveForm(BaseForm):
    resolution = RadioField("结果", choices=choices(RESOLUTIONS), validators=[required("结果")])
    note = TextAreaField("说明", validators=[required("说明"), max_length("说明", 500)],
                         description="已解决：情况有了什么变化；不再需要：为什么")


class MeasureForm(OnceForm):
    action = TextAreaField("帮扶措施", validators=[required("帮扶措施"), max_length("帮扶措施", 300)],
                           description="要做什么，做到什么程度")
    # the 13 departments (plan.py department_choices), value the department's id; "" for none
    department_id = SelectField("责任部门", validate_choice=False, description="可不选；转介后自动填上")
    owner_name = StringField("责任人", validators=[required("责任人"), max_length("责任人", 40)],
                             description="负责落实的人；填自己的姓名，到期提醒会发给自己")
    due_on = DateField("完成期限", validators=[required("完成期限"), calendar_date("完成期限")],
                       description="不能早于今天")


class MeasureEditForm(MeasureForm):
    state = SelectField("状态", choices=choices(MEASURE_STATES.items()), validators=[required("状态")])
    outcome = TextAreaField("完成情况", validators=[max_length("完成情况", 500)],
                            description="状态选“已完成”时必填：做了什么、结果如何")
    closed_reason = TextAreaField("终止原因", validators=[max_length("终止原因", 500)],
                                  description="状态选“已终止”时必填")
