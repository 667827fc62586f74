"""The forms of the carer pages: naming a carer, a fee waiver, a holiday care place and its end, a duty,
a class teacher's class."""
from __future__ import annotations

from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from blueprints.core.forms import BaseForm, OnceForm, calendar_date, choices, max_length, phone_number, required
from blueprints.core.vocabulary import HOLIDAY_CARE_KINDS, SCHOOL_DUTIES


class CarerForm(BaseForm):
    # The choices are the school's accounts, set by the route; the service checks the one chosen.
    user_id = SelectField("本校老师", validate_choice=False,
                          description="选本校老师，会带出她的姓名和账号里的电话")
    name = StringField("姓名", validators=[max_length("姓名", 40)],
                       description="关爱责任人没有本系统账号时填写，同时要填电话")
    phone = StringField("电话", validators=[phone_number("电话")],
                        description="选了本校老师可不填，用她账号里的电话")
    since = DateField("开始负责日期", validators=[required("开始负责日期"),
                                            calendar_date("开始负责日期", not_after_today=True)])
    note = TextAreaField("备注", validators=[max_length("备注", 200)])


class CarerCorrectionForm(BaseForm):
    """The current carer's phone, start or note, corrected in place."""

    phone = StringField("电话", validators=[required("电话"), phone_number("电话")])
    since = DateField("开始负责日期", validators=[required("开始负责日期"),
                                            calendar_date("开始负责日期", not_after_today=True)])
    note = TextAreaField("备注", validators=[max_length("备注", 200)])


class WaiverForm(BaseForm):
    term = HiddenField("学期", validators=[required("学期")])
    waived = HiddenField("减免", validators=[Optional()])  # "1": waive; else withdraw
    back = HiddenField("返回", validators=[Optional()])  # "home": back to the home page


class HolidayCareForm(OnceForm):
    kind = SelectField("时段", choices=choices([("", "请选择"), *HOLIDAY_CARE_KINDS.items()]),
                       validators=[required("时段")])
    place = StringField("关爱地点", validators=[required("关爱地点"), max_length("关爱地点", 80)],
                        description="孩子在哪里、由谁照看，例如“村儿童之家，李老师”")
    starts_on = DateField("开始日期", validators=[required("开始日期"), calendar_date("开始日期")])
    ends_on = DateField("结束日期", validators=[Optional(), calendar_date("结束日期")],
                        description="可不填；每个周末都去的，不填")
    note = TextAreaField("备注", validators=[max_length("备注", 200)])


class HolidayCareEndForm(BaseForm):
    """The end of one open place, a small form beside it (prefixed with the place's id)."""

    ends_on = DateField("结束日期", validators=[required("结束日期"), calendar_date("结束日期", not_after_today=True)])


class DutyForm(BaseForm):
    duty = SelectField("职责", choices=choices([("", "请选择"), *SCHOOL_DUTIES.items()]),
                       validators=[required("职责")])


class ClassForm(BaseForm):
    # The choices are the school's classes, set by the route; the service checks the one chosen.
    class_pair = SelectField("带班", validate_choice=False, validators=[Optional()],
                             description="从本校学生所在的班级中选择；不带班选“不带班”")
