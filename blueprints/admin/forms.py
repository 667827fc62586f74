
from sqlalchemy import func, select
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import Regexp

from blueprints.places.models import Department, School, Village
from blueprints.auth.forms import PASSWORD_MIN, PASSWORD_RULES, check_password_strength
from blueprints.auth.models import User
from blueprints.core.access import REACH_FIELDS, ROLES
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
from blueprints.core.vocabulary import SCHOOL_DUTIES, SCHOOL_KINDS, VOLUNTEER_KINDS
from extensions import db


def _unique(model, column, value, current_id, message):
    # Lowered by the database on both sides: Python's lower() and SQLite's (ASCII only) differ for "Õ", and
    # the name slipped past this check into the unique index (500).
    query = select(func.count()).select_from(model).where(func.lower(column) == func.lower(value))
    if current_id is not None:
        query = query.where(model.id != current_id)
    if db.session.scalar(query):
        raise ValidationError(message)


class UserForm(BaseForm):
    username = StringField(
        "用户名",
        validators=[
            required("用户名"),
            max_length("用户名", 40, minimum=3),
            Regexp(r"^[A-Za-z0-9_.-]+$", message="用户名只能用字母、数字、下划线、点或短横线，例如 zhuren3"),
        ],
    )
    display_name = StringField("姓名", validators=[required("姓名"), max_length("姓名", 40)])
    phone = StringField("电话", validators=[Optional(), max_length("电话", 20), phone_number()])
    role = SelectField("角色", choices=choices((r.code, r.label) for r in ROLES.values()))
    volunteer_kind = SelectField("志愿者类别", description="角色为志愿者时选择", choices=choices([("", "（非志愿者）"), *VOLUNTEER_KINDS.items()]))
    villages = CheckboxListField("负责的村", coerce=int, description="角色为儿童主任时勾选")
    school_id = SelectField("所在学校", coerce=int, description="角色为学校时选择")
    school_duty = SelectField("学校职责", description="角色为学校时选择：只有心理老师能看心理筛查",
                              choices=choices([("", "（非学校）"), *SCHOOL_DUTIES.items()]),
                              validate_choice=False)  # asked only of a school account: validate() below
    department_id = SelectField("所在部门", coerce=int, description="角色为部门时选择")
    active = BooleanField("启用", default=True)
    password = PasswordField("初始密码", description=PASSWORD_RULES)

    def __init__(self, *args, editing: User | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.villages.choices = choices((v.id, v.name) for v in db.session.scalars(select(Village).order_by(Village.name)))
        self.school_id.choices = choices(
            [(0, "（不适用）"), *((s.id, s.name) for s in db.session.scalars(select(School).order_by(School.name)))]
        )
        self.department_id.choices = choices(
            [(0, "（不适用）"), *((d.id, d.name) for d in db.session.scalars(select(Department).order_by(Department.id)))]
        )

    def validate_username(self, field):
        field.data = (field.data or "").strip()
        _unique(User, User.username, field.data, self.editing.id if self.editing else None,
                f"用户名“{field.data}”已被使用，请换一个")

    def validate_password(self, field):
        if self.editing is None and not field.data:
            raise ValidationError(f"请填写初始密码（至少 {PASSWORD_MIN} 个字符）：用户第一次登录时要先改成自己的密码")
        if field.data:
            problem = check_password_strength(field.data, self.username.data)
            if problem:
                raise ValidationError(problem.replace("新密码", "密码"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        reach = ROLES[self.role.data].reach if self.role.data in ROLES else None
        needed = REACH_FIELDS.get(reach)
        if needed == "villages" and not self.villages.data:
            self.villages.errors.append("儿童主任至少要负责一个村，请勾选")
            ok = False
        if needed == "school" and not self.school_id.data:
            self.school_id.errors.append("学校账号要选择所在学校")
            ok = False
        if needed == "school" and self.school_duty.data not in SCHOOL_DUTIES:
            self.school_duty.errors.append("学校账号要选择职责（关爱工作负责人、班主任或心理老师）")
            ok = False
        if needed == "department" and not self.department_id.data:
            self.department_id.errors.append("部门账号要选择所在部门")
            ok = False
        if self.role.data == "volunteer" and not self.volunteer_kind.data:
            self.volunteer_kind.errors.append("请选择志愿者类别（青年志愿者、爱心妈妈、教师志愿者或社会组织成员）")
            ok = False
        if self._leaves_a_school_without_coordinator():
            # beside what was changed
            field = next(f for f, changed in ((self.role, self.role.data != "school"),
                                              (self.school_id, self.school_id.data != self.editing.school_id),
                                              (self.school_duty, self.school_duty.data != "coordinator"),
                                              (self.active, True)) if changed)
            field.errors.append(f"{self.editing.display_name} 是本校唯一的关爱工作负责人，请先把另一位老师设为"
                                "关爱工作负责人，再改她的账号")
            ok = False
        return ok

    def _leaves_a_school_without_coordinator(self) -> bool:
        """A school keeps an active coordinator (/schools/staff refuses the same): she names the
        key pupils' carers and the staff's duties, and nobody else at the school may."""
        user = self.editing
        if user is None or user.role != "school" or user.school_duty != "coordinator" or not user.active:
            return False
        stays = (self.role.data == "school" and self.school_id.data == user.school_id
                 and self.school_duty.data == "coordinator" and self.active.data)
        if stays:
            return False
        return not db.session.scalar(select(func.count()).select_from(User).where(
            User.role == "school", User.school_id == user.school_id, User.school_duty == "coordinator",
            User.active.is_(True), User.id != user.id))


class VillageForm(BaseForm):
    name = StringField("村名", validators=[required("村名"), max_length("村名", 50)])
    active = BooleanField("启用", default=True)

    def __init__(self, *args, editing: Village | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing

    def validate_name(self, field):
        field.data = (field.data or "").strip()
        _unique(Village, Village.name, field.data, self.editing.id if self.editing else None,
                f"已有名为“{field.data}”的村，请勿重复添加")


class SchoolForm(BaseForm):
    name = StringField("学校名称", validators=[required("学校名称"), max_length("学校名称", 80)])
    kind = SelectField("类型", choices=choices(SCHOOL_KINDS.items()))
    villages = CheckboxListField("服务的村", coerce=int)
    active = BooleanField("启用", default=True)

    def __init__(self, *args, editing: School | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.villages.choices = choices((v.id, v.name) for v in db.session.scalars(select(Village).order_by(Village.name)))

    def validate_name(self, field):
        field.data = (field.data or "").strip()
        _unique(School, School.name, field.data, self.editing.id if self.editing else None,
                f"已有名为“{field.data}”的学校，请勿重复添加")


class DepartmentForm(BaseForm):
    name = StringField("部门名称", validators=[required("部门名称"), max_length("部门名称", 50)])
    active = BooleanField("启用", default=True)

    def __init__(self, *args, editing: Department | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing

    def validate_name(self, field):
        field.data = (field.data or "").strip()
        _unique(Department, Department.name, field.data, self.editing.id if self.editing else None,
                f"已有名为“{field.data}”的部门")


# The creating forms: sent twice (two taps, the back button), they store one (core/once.py).
class UserCreateForm(OnceForm, UserForm):
    pass


class VillageCreateForm(OnceForm, VillageForm):
    pass


class SchoolCreateForm(OnceForm, SchoolForm):
    pass
