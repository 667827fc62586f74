"""The forms of enrolment and dropout: a change of state (or a transfer), a dropout report, a step
taken to bring the pupil back, her return, a week's attendance. The rules across records (dates
against the dropout, one case at a time) are the services' (enrolment.py, dropouts.py)."""
from __future__ import annotations

from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import NumberRange, Optional

from blueprints.core.forms import BaseForm, OnceForm, calendar_date, choices, max_length, required
from blueprints.core.vocabulary import DROPOUT_REASONS, DROPOUT_STEPS, ENROLMENT_STATES

# 辍学 is reported as a case (its own form), not chosen here.
STATE_CHOICES = [(code, name) for code, name in ENROLMENT_STATES.items() if code != "dropped_out"]


class EnrolmentForm(BaseForm):
    state = SelectField("在读状态", choices=choices([("", "请选择"), *STATE_CHOICES]), validators=[required("在读状态")])
    changed_on = DateField("变更日期", validators=[required("变更日期"), calendar_date("变更日期", not_after_today=True)])
    to_school_id = SelectField("转入学校", coerce=str, validate_choice=False,
                               description="转到本镇另一所学校时选择；转出本镇请在说明里写明学校")
    note = StringField("说明", validators=[max_length("说明", 200)])


class DropoutForm(OnceForm):
    dropped_on = DateField("辍学日期", validators=[required("辍学日期"), calendar_date("辍学日期", not_after_today=True)],
                           description="最后一天到校的次日，或发现没来上学的那天")
    reason = SelectField("辍学原因", choices=choices([("", "请选择"), *DROPOUT_REASONS.items()]),
                         validators=[required("辍学原因")])
    reason_note = StringField("说明", validators=[max_length("说明", 200)], description="原因选“其他”时必填")


class StepForm(OnceForm):
    kind = SelectField("跟进方式", choices=choices([("", "请选择"), *DROPOUT_STEPS.items()]),
                       validators=[required("跟进方式")])
    done_on = DateField("日期", validators=[required("日期"), calendar_date("日期", not_after_today=True)])
    note = TextAreaField("情况", validators=[required("情况"), max_length("情况", 1000)],
                         description="做了什么、家长和孩子怎么说、下一步打算")


class ReturnForm(BaseForm):
    returned_on = DateField("返校日期", validators=[required("返校日期"), calendar_date("返校日期", not_after_today=True)])
    return_note = StringField("说明", validators=[max_length("说明", 200)])


class AttendanceForm(OnceForm):
    week_of = DateField("周次", validators=[required("周次"), calendar_date("周次")],
                        description="这一周里的任一天（按周一到周日算）")
    absent_days = IntegerField("缺勤天数", default=0,
                               validators=[Optional(), NumberRange(0, 7, "缺勤天数：请填 0 到 7 天（0 即正常）")],
                               description="0 即正常")
    note = StringField("说明", validators=[max_length("说明", 200)])
