"""The forms of psychological screening: a screening, its follow-up, an instrument and its bands."""
from __future__ import annotations

from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Optional

from blueprints.core.forms import BaseForm, calendar_date, choices, max_length, required
from blueprints.core.vocabulary import SCREENING_BANDS, SCREENING_FOLLOWUPS
from blueprints.schools.screenings import SCORE_LIMIT, band_field


class ScreeningForm(BaseForm):
    term = SelectField("学期", validators=[required("学期")])  # choices: the recent terms
    instrument_id = SelectField("筛查量表", validators=[required("筛查量表")])  # choices: the active ones
    screened_on = DateField("筛查日期", validators=[required("筛查日期"), calendar_date("筛查日期", not_after_today=True)])
    # 0 is a score: InputRequired, not DataRequired. Its range is the instrument's (the service says it).
    score = IntegerField("得分", validators=[InputRequired("请填写得分")],
                         description="按量表手册计算的总分；结果（正常、关注、高风险）按量表的分数段自动得出")


class FollowupForm(BaseForm):
    followup = RadioField("跟进方式", choices=choices(SCREENING_FOLLOWUPS.items()), validators=[required("跟进方式")])
    followup_on = DateField("跟进日期", validators=[required("跟进日期"), calendar_date("跟进日期", not_after_today=True)])
    followup_note = TextAreaField("跟进情况", validators=[max_length("跟进情况", 1000)],
                                  description="谈了什么、转介到哪里、监护人怎么说；只有心理老师、镇民政组和督导员看得到")


def _score(label: str):
    return IntegerField(label, validators=[Optional(), NumberRange(0, SCORE_LIMIT, f"{label}：请填写 0 到 {SCORE_LIMIT} 之间的整数")])


class InstrumentForm(BaseForm):
    name = StringField("量表名称", validators=[required("量表名称"), max_length("量表名称", 60)])
    min_score = IntegerField("最低分", default=0, validators=[
        InputRequired("请填写最低分"), NumberRange(0, SCORE_LIMIT, f"最低分：请填写 0 到 {SCORE_LIMIT} 之间的整数")])
    max_score = IntegerField("最高分", validators=[
        required("最高分"), NumberRange(1, SCORE_LIMIT, f"最高分：请填写 1 到 {SCORE_LIMIT} 之间的整数")])
    note = TextAreaField("说明", validators=[max_length("说明", 500)], description="记分办法、适用年级、出处等")
    active = BooleanField("使用中（停用后录入筛查时不再列出，已有记录不受影响）", default=True)

    def band_values(self) -> dict[str, tuple[int | None, int | None]]:
        return {code: (self[band_field(code, "low")].data, self[band_field(code, "high")].data) for code in SCREENING_BANDS}


# Two fields per band, "normal_low" and "normal_high"…: a band not used is left empty.
for _code, _label in SCREENING_BANDS.items():
    setattr(InstrumentForm, band_field(_code, "low"), _score(f"“{_label}”的最低分"))
    setattr(InstrumentForm, band_field(_code, "high"), _score(f"“{_label}”的最高分"))
