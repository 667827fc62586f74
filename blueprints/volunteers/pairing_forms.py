"""The forms of the pairing pages: a new pairing, ending one, the director's remarks."""
from __future__ import annotations

from wtforms import DateField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import NumberRange, Optional

from blueprints.core.forms import BaseForm, CheckboxListField, OnceForm, calendar_date, choices, max_length, required
from blueprints.core.vocabulary import NEED_CATEGORIES, PAIRING_END_REASONS, PROGRAMMES


class PairingForm(OnceForm):
    programme = SelectField("结对项目", choices=choices([("", "请选择"), *PROGRAMMES.items()]),
                            validators=[required("结对项目")])
    volunteer_id = RadioField("志愿者", coerce=str, validate_choice=False, validators=[required("志愿者")])
    started_on = DateField("开始日期", validators=[required("开始日期"), calendar_date("开始日期", not_after_today=True)])
    planned_end_on = DateField("计划结束日期", validators=[Optional(), calendar_date("计划结束日期")],
                               description="可不填；填了就不能早于开始日期")
    times_per_month = IntegerField("约定频次（每月几次）", default=2,
                                   validators=[required("约定频次"), NumberRange(1, 8, "约定频次：请填写每月 1 到 8 次")])
    needs = CheckboxListField("针对的需求", choices=choices(NEED_CATEGORIES.items()),
                              description="已按孩子最近一次走访和儿童类别勾选，可修改")
    goals = TextAreaField("帮扶目标", validators=[required("帮扶目标"), max_length("帮扶目标", 1000)],
                          description="这次结对希望为孩子带来什么改变，例如“每月两次陪读，期末语文及格”")


class EndPairingForm(BaseForm):
    ended_on = DateField("结束日期", validators=[required("结束日期"), calendar_date("结束日期", not_after_today=True)])
    end_reason = SelectField("结束原因", choices=choices([("", "请选择"), *PAIRING_END_REASONS.items()]),
                             validators=[required("结束原因")])
    end_note = TextAreaField("说明", validators=[max_length("说明", 200)])


class RemarksForm(BaseForm):
    director_remarks = TextAreaField("儿童主任意见", validators=[max_length("儿童主任意见", 1000)],
                                     description="打印在结对帮扶记录表上")
