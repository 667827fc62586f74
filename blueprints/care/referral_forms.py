"""The forms of a referral: sending a measure to a department, the department's action (with its
files) and its return. The rules across records (one open referral per measure, a department with
an account, the files' kinds and sizes) are the service's (referrals.py)."""
from __future__ import annotations

from wtforms import DateField, MultipleFileField, RadioField, SelectField, TextAreaField

from blueprints.core.forms import BaseForm, OnceForm, calendar_date, choices, max_length, required
from blueprints.care.referrals import ATTACHMENT_MAX_BYTES, ATTACHMENTS_PER_ACTION, RETURN_OUTCOMES


class ReferralForm(OnceForm):
    department_id = SelectField("转介部门", coerce=str, validate_choice=False, validators=[required("转介部门")])
    note = TextAreaField("转介事项", validators=[required("转介事项"), max_length("转介事项", 1000)],
                         description="需要部门做什么、孩子和家庭的情况、联系谁")


class ActionForm(OnceForm):
    acted_on = DateField("日期", validators=[required("日期"), calendar_date("日期", not_after_today=True)])
    text = TextAreaField("办理情况", validators=[required("办理情况"), max_length("办理情况", 2000)],
                         description="做了什么、结果如何、下一步打算")
    attachments = MultipleFileField(
        "附件", description=f"可选：PDF、JPEG 或 PNG，每个不超过 {ATTACHMENT_MAX_BYTES // 1024 // 1024} MB，"
                          f"一次最多 {ATTACHMENTS_PER_ACTION} 个",
        render_kw={"accept": "application/pdf,image/jpeg,image/png"})


class ReturnForm(BaseForm):
    outcome = RadioField("办理结果", choices=choices(RETURN_OUTCOMES.items()), validators=[required("办理结果")])
    note = TextAreaField("办理结果说明", validators=[max_length("办理结果说明", 1000)],
                         description="已办结：办了什么、结果如何；退回：无法办理的原因（转介单位会看到）")
