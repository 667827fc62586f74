"""Forms of the roster: a volunteer's profile (and, when she is registered, her login) and an
organisation. The password policy is the admin's user form's (auth/forms.py)."""
from __future__ import annotations

from sqlalchemy import func, select
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Regexp, StopValidation

from blueprints.auth.forms import PASSWORD_MIN, PASSWORD_RULES, check_password_strength
from blueprints.core.forms import (
    BaseForm,
    CheckboxListField,
    OnceForm,
    Optional,
    ValidationError,
    choices,
    max_length,
    phone_number,
    required,
)
from blueprints.core.vocabulary import ORGANISATION_KINDS, SKILLS, VOLUNTEER_KINDS
from blueprints.volunteers.models import Organisation
from blueprints.volunteers.roster import (
    CAPACITY_MAX,
    CAPACITY_MIN,
    USERNAME_PATTERN,
    USERNAME_RULE,
    organisations,
    username_taken,
    villages,
)
from extensions import db


class CountField(IntegerField):
    """A whole number whose “not a number” message names the field, in Chinese (and only that one)."""

    def process_formdata(self, valuelist):
        if valuelist and not valuelist[0].strip():
            self.data = None  # left blank: InputRequired says so
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(f"{self.label.text}请填写整数，例如 2") from None

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()  # not a number: its range says nothing more


class _NamedChoice:
    """A choice outside the list (or not even of the list's type) named by the field, in Chinese:
    WTForms says only “不是有效的选择”, and for checkboxes an English sentence."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(f"请从列表中选择{self.label.text}") from None

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(f"请从列表中选择{self.label.text}") from None


class ChoiceField(_NamedChoice, SelectField):
    pass


class ChoicesField(_NamedChoice, CheckboxListField):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = "CheckboxListField"  # drawn as the house's checkbox list (_macros/forms.html)


class VolunteerForm(BaseForm):
    name = StringField("姓名", validators=[required("姓名"), max_length("姓名", 40)])
    kind = ChoiceField("类别", choices=choices(VOLUNTEER_KINDS.items()))
    organisation_id = ChoiceField("所属组织", coerce=int, description="社会组织、服务站点或单位；没有可不选")
    village_id = ChoiceField("所在村", coerce=int)
    phone = StringField("电话", validators=[Optional(), max_length("电话", 20), phone_number()])
    skills = ChoicesField("特长", choices=choices(SKILLS.items()))
    capacity = CountField(
        "可结对人数", default=2, description=f"同时最多结对几名儿童（{CAPACITY_MIN}–{CAPACITY_MAX}）",
        validators=[InputRequired(message="请填写可结对人数"),
                    NumberRange(CAPACITY_MIN, CAPACITY_MAX,
                                message=f"可结对人数应在 {CAPACITY_MIN} 到 {CAPACITY_MAX} 之间")])
    note = TextAreaField("备注", validators=[Optional(), max_length("备注", 200)])

    SECTIONS = [
        ("基本信息", ["name", "kind", "organisation_id", "village_id", "phone"]),
        ("能提供的帮助", ["skills", "capacity", "note"]),
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A stopped organisation stays selectable for the volunteer who is already in it.
        obj = kwargs.get("obj")
        current = obj.organisation_id if obj is not None else None
        self.organisation_id.choices = choices(
            [(0, "（无）"), *((o.id, o.name + ("" if o.active else "（已停用）")) for o in organisations()
                             if o.active or o.id == current)])
        self.village_id.choices = choices(
            [(0, "（未填）"), *((v.id, v.name) for v in villages(keep=obj.village_id if obj is not None else None))])

    def values(self) -> dict:
        return dict(name=self.name.data.strip(), kind=self.kind.data, organisation_id=self.organisation_id.data or None,
                    village_id=self.village_id.data or None, phone=(self.phone.data or "").strip() or None,
                    capacity=self.capacity.data, note=(self.note.data or "").strip() or None)


class VolunteerCreateForm(OnceForm, VolunteerForm):
    """Registering her: the profile and her login (role 志愿者)."""

    username = StringField("登录名", description="她用来登录手机的名字，如 zhiyuan7",
                           validators=[required("登录名"), Regexp(USERNAME_PATTERN, message=USERNAME_RULE)],
                           render_kw={"autocomplete": "off", "autocapitalize": "none"})
    password = PasswordField("初始密码", description=PASSWORD_RULES + "。请当面告诉她：她第一次登录时要先改成自己的密码",
                             render_kw={"autocomplete": "new-password"})

    SECTIONS = VolunteerForm.SECTIONS + [("登录", ["username", "password"])]

    def validate_username(self, field):
        field.data = (field.data or "").strip()
        if username_taken(field.data):
            raise ValidationError(f"登录名“{field.data}”已被使用，请换一个")

    def validate_password(self, field):
        if not field.data:
            raise ValidationError(f"请填写初始密码（至少 {PASSWORD_MIN} 个字符）")
        problem = check_password_strength(field.data, self.username.data)
        if problem:
            raise ValidationError(problem.replace("新密码", "初始密码"))


class OrganisationForm(OnceForm):
    name = StringField("名称", validators=[required("名称"), max_length("名称", 60)])
    kind = ChoiceField("类型", choices=choices(ORGANISATION_KINDS.items()))
    village_id = ChoiceField("所在村", coerce=int)
    contact = StringField("联系人", validators=[Optional(), max_length("联系人", 40)])
    phone = StringField("联系电话", validators=[Optional(), max_length("联系电话", 20), phone_number("联系电话")])
    active = BooleanField("启用", default=True)

    def __init__(self, *args, editing: Organisation | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.village_id.choices = choices([(0, "（不在某个村）"), *(
            (v.id, v.name) for v in villages(keep=editing.village_id if editing is not None else None))])

    def validate_name(self, field):
        field.data = (field.data or "").strip()
        query = select(func.count(Organisation.id)).where(func.lower(Organisation.name) == field.data.lower())
        if self.editing is not None:
            query = query.where(Organisation.id != self.editing.id)
        if db.session.scalar(query):
            raise ValidationError(f"已有名为“{field.data}”的组织或站点，请勿重复添加")

    def values(self) -> dict:
        return dict(name=self.name.data, kind=self.kind.data, village_id=self.village_id.data or None,
                    contact=(self.contact.data or "").strip() or None, phone=(self.phone.data or "").strip() or None,
                    active=self.active.data)
