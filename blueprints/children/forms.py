"""Forms of the registry. Identity checks are shared with the Excel import (validation.py)."""
from __future__ import annotations

from flask_login import current_user
from wtforms import BooleanField, DateField, DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import NumberRange

from blueprints.children.models import DISABILITY_GRADES, DISABILITY_KINDS, RELATIONS
from blueprints.children.validation import check_identity
from blueprints.places.access import reachable_schools, reachable_villages
from blueprints.core.clock import local_today
from blueprints.core.forms import (
    BaseForm,
    CheckboxListField,
    OnceForm,
    Optional,
    ValidationError,
    calendar_date,
    choices,
    max_length,
    phone_number,
    required,
)
from blueprints.core.vocabulary import (
    ATTENTION_LEVELS,
    BENEFIT_KINDS,
    CATEGORIES,
    CONTACT_METHODS,
    EXIT_REASONS,
    GENDERS,
    GUARDIANSHIP_CAPACITY,
    LEFT_BEHIND_AGE,
    STATE_GUARDIANSHIP,
    age_on,
)
from extensions import db


def _blank(label: str):
    return [("", f"（{label}）")]


class ChildForm(BaseForm):
    """The child's own fields (the record page edits family members one by one)."""

    name = StringField("姓名", validators=[required("姓名"), max_length("姓名", 40)])
    id_number = StringField("身份证号", validators=[Optional(), max_length("身份证号", 30)],
                            description="18 位；出生日期和性别会按身份证号核对。没有身份证号可留空",
                            render_kw={"autocomplete": "off", "inputmode": "text"})
    gender = SelectField("性别", choices=choices([*_blank("按身份证号"), *GENDERS.items()]))
    birth_date = DateField("出生日期", validators=[Optional(), calendar_date("出生日期", not_after_today=True)],
                           description="有身份证号时可留空")
    ethnicity = StringField("民族", default="汉族", validators=[Optional(), max_length("民族", 20)])
    residence_village_id = SelectField("居住村", coerce=int)
    hukou_village_id = SelectField("户籍村", coerce=int)
    address = StringField("住址", validators=[Optional(), max_length("住址", 200)])
    school_id = SelectField("学校", coerce=int)
    grade = StringField("年级", validators=[Optional(), max_length("年级", 20)], description="例如 三年级、初一、中班")
    class_name = StringField("班级", validators=[Optional(), max_length("班级", 20)], description="例如 2班；可不填")
    categories = CheckboxListField("儿童类别", choices=choices(CATEGORIES.items()))
    attention_level = SelectField("关注等级", choices=choices(ATTENTION_LEVELS.items()), default="general")
    state_guardianship = SelectField("兜底监护（§9）", choices=choices(STATE_GUARDIANSHIP.items()), default="none")
    guardianship_unit = StringField("监护责任单位", validators=[Optional(), max_length("监护责任单位", 80)])
    health = StringField("健康状况", validators=[Optional(), max_length("健康状况", 200)])
    disability_kind = SelectField("残疾类别", choices=choices([*_blank("无"), *((k, k) for k in DISABILITY_KINDS)]))
    disability_grade = SelectField("残疾等级", choices=choices([*_blank("无"), *((g, g) for g in DISABILITY_GRADES)]))
    disability_certificate = StringField("残疾证号", validators=[Optional(), max_length("残疾证号", 40)])
    caregiver_name = StringField("委托照护人", validators=[Optional(), max_length("委托照护人", 40)])
    caregiver_relation = SelectField("照护人关系", choices=choices([*_blank("未填"), *((r, r) for r in RELATIONS)]))
    caregiver_phone = StringField("照护人电话", validators=[Optional(), phone_number("照护人电话")])
    caregiver_confirmed_on = DateField("父母确认委托日期",
                                       validators=[Optional(), calendar_date("确认日期", not_after_today=True)])
    confirm_duplicate = BooleanField("我已核对，这是另一个孩子，继续保存")

    SECTIONS = [
        ("基本信息", ["name", "id_number", "gender", "birth_date", "ethnicity", "residence_village_id",
                      "hukou_village_id", "address", "school_id", "grade", "class_name"]),
        ("类别与关注", ["categories", "attention_level", "state_guardianship", "guardianship_unit"]),
        ("健康与残疾", ["health", "disability_kind", "disability_grade", "disability_certificate"]),
        ("委托照护（留守儿童）", ["caregiver_name", "caregiver_relation", "caregiver_phone", "caregiver_confirmed_on"]),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        villages = [(v.id, v.name) for v in db.session.scalars(reachable_villages(current_user))]
        self.residence_village_id.choices = choices([(0, "（请选择）"), *villages])
        if len(villages) == 1 and not self.residence_village_id.data:
            self.residence_village_id.data = villages[0][0]  # a director of one village: nothing to choose
        # 户籍 may be in any village the user reaches, or left blank.
        self.hukou_village_id.choices = choices([(0, "（同居住村或未填）"), *villages])
        self.school_id.choices = choices(
            [(0, "（未上学或未填）"), *((s.id, s.name) for s in db.session.scalars(reachable_schools(current_user)))]
        )
        self.identity = None  # the parsed ID number, once validated

    def validate_residence_village_id(self, field):
        if not field.data:
            raise ValidationError("请选择居住村")

    def validate_categories(self, field):
        if not field.data:
            raise ValidationError("请至少选择一个儿童类别")

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        parsed, errors = check_identity(self.id_number.data, self.gender.data or None, self.birth_date.data,
                                        today=local_today())
        for name, message in errors.items():
            if not self[name].errors:  # one message a field: the field's own check said it already
                self[name].errors.append(message)
            ok = False
        self.identity = parsed
        birth = parsed.birth_date if parsed else self.birth_date.data
        if birth and "left_behind" in (self.categories.data or []):
            age = age_on(birth, local_today())
            if age >= LEFT_BEHIND_AGE:
                self.categories.errors.append(f"留守儿童应未满{LEFT_BEHIND_AGE}周岁，这个孩子已 {age} 岁")
                ok = False
        return ok

    def child_values(self) -> dict:
        """The validated fields as Child column values."""
        parsed = self.identity
        return {
            "name": self.name.data.strip(),
            "id_number": parsed.number if parsed else None,
            "gender": parsed.gender if parsed else self.gender.data,
            "birth_date": parsed.birth_date if parsed else self.birth_date.data,
            "ethnicity": (self.ethnicity.data or "汉族").strip(),
            "residence_village_id": self.residence_village_id.data,
            "hukou_village_id": self.hukou_village_id.data or None,
            "address": (self.address.data or "").strip() or None,
            "school_id": self.school_id.data or None,
            "grade": (self.grade.data or "").strip() or None,
            "class_name": (self.class_name.data or "").strip() or None,
            "attention_level": self.attention_level.data,
            "state_guardianship": self.state_guardianship.data,
            "guardianship_unit": (self.guardianship_unit.data or "").strip() or None,
            "health": (self.health.data or "").strip() or None,
            "disability_kind": self.disability_kind.data or None,
            "disability_grade": self.disability_grade.data or None,
            "disability_certificate": (self.disability_certificate.data or "").strip() or None,
            "caregiver_name": (self.caregiver_name.data or "").strip() or None,
            "caregiver_relation": self.caregiver_relation.data or None,
            "caregiver_phone": (self.caregiver_phone.data or "").strip() or None,
            "caregiver_confirmed_on": self.caregiver_confirmed_on.data,
        }


class ChildCreateForm(OnceForm, ChildForm):
    """Registration also takes the guardian and the parents, as the survey sheet does."""

    guardian_name = StringField("监护人姓名", validators=[required("监护人姓名"), max_length("监护人姓名", 40)])
    guardian_relation = SelectField("监护人关系", choices=choices((r, r) for r in RELATIONS))
    guardian_phone = StringField("监护人电话", validators=[Optional(), phone_number("监护人电话")])
    father_name = StringField("父亲姓名", validators=[Optional(), max_length("父亲姓名", 40)])
    father_phone = StringField("父亲电话", validators=[Optional(), phone_number("父亲电话")])
    father_works_away = BooleanField("父亲外出务工")
    mother_name = StringField("母亲姓名", validators=[Optional(), max_length("母亲姓名", 40)])
    mother_phone = StringField("母亲电话", validators=[Optional(), phone_number("母亲电话")])
    mother_works_away = BooleanField("母亲外出务工")

    SECTIONS = ChildForm.SECTIONS[:1] + [
        ("监护人和父母", ["guardian_name", "guardian_relation", "guardian_phone", "father_name", "father_phone",
                          "father_works_away", "mother_name", "mother_phone", "mother_works_away"]),
    ] + ChildForm.SECTIONS[1:]

    def guardian_phones(self) -> list[str]:
        return [p for p in (self.guardian_phone.data, self.father_phone.data, self.mother_phone.data) if p]


class FamilyMemberForm(OnceForm):
    relation = SelectField("关系", choices=choices((r, r) for r in RELATIONS))
    name = StringField("姓名", validators=[required("姓名"), max_length("姓名", 40)])
    id_number = StringField("身份证号", validators=[Optional(), max_length("身份证号", 30)])
    phone = StringField("电话", validators=[Optional(), phone_number()])
    work = StringField("工作", validators=[Optional(), max_length("工作", 60)])
    work_place = StringField("工作地点", validators=[Optional(), max_length("工作地点", 80)])
    works_away = BooleanField("外出务工")
    guardianship_capacity = SelectField("监护能力", choices=choices(GUARDIANSHIP_CAPACITY.items()), default="full")
    is_guardian = BooleanField("是监护人")

    def validate_id_number(self, field):
        from blueprints.children.idnumber import IdNumberError, parse_id_number

        if field.data and field.data.strip():
            try:
                field.data = parse_id_number(field.data, today=local_today()).number
            except IdNumberError as error:
                raise ValidationError(str(error)) from None


class ParentContactForm(OnceForm):
    contacted_on = DateField("联系日期", validators=[required("联系日期"), calendar_date("联系日期", not_after_today=True)])
    who = StringField("谁联系的", validators=[required("谁联系的"), max_length("谁联系的", 40)],
                      description="例如 父亲、母亲")
    method = SelectField("方式", choices=choices(CONTACT_METHODS.items()))
    note = StringField("情况", validators=[Optional(), max_length("情况", 200)])


class BenefitForm(OnceForm):
    kind = SelectField("保障类别", choices=choices(BENEFIT_KINDS.items()))
    amount = DecimalField("金额（元）", places=2, validators=[Optional(), NumberRange(min=0, message="金额不能为负数"),
                                                        # the column's numeric(10, 2): PostgreSQL refuses more
                                                        NumberRange(max=99_999_999, message="金额最多 99999999 元")])
    period = SelectField("周期", choices=choices([("每月", "每月"), ("每年", "每年"), ("一次性", "一次性")]))
    # a benefit may be planned: its dates may lie ahead
    start_on = DateField("开始日期", validators=[required("开始日期"), calendar_date("开始日期")])
    end_on = DateField("结束日期", validators=[Optional(), calendar_date("结束日期")])
    source = StringField("来源", validators=[Optional(), max_length("来源", 60)], description="例如 县民政局、慈善总会")

    def validate_end_on(self, field):
        if field.data and self.start_on.data and field.data < self.start_on.data:
            raise ValidationError("结束日期不能早于开始日期")


class ExitForm(BaseForm):
    exit_reason = SelectField("退出原因", choices=choices(EXIT_REASONS.items()))
    exit_date = DateField("退出日期", validators=[required("退出日期"), calendar_date("退出日期", not_after_today=True)])
    note = TextAreaField("说明", validators=[Optional(), max_length("说明", 200)])


class ReinstateForm(BaseForm):
    reason = TextAreaField("恢复原因", validators=[required("恢复原因"), max_length("恢复原因", 200)],
                           description="例如：父母再次外出务工、退出办理有误。会记入变更记录")
