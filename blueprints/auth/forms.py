
from functools import cache
from pathlib import Path

from wtforms import PasswordField, StringField
from wtforms.validators import EqualTo

from blueprints.core.forms import BaseForm, ValidationError, max_length, required

PASSWORD_MIN = 10
PASSWORD_RULES = f"至少 {PASSWORD_MIN} 个字符，不能全是数字，不能与用户名相同，不能是常见密码"
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of passwords guessed first (lowercase, one a line)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def check_password_strength(password: str, username: str | None = None) -> str | None:
    """Why `password` is too weak, or None when it is acceptable."""
    if len(password) < PASSWORD_MIN:
        return f"新密码至少 {PASSWORD_MIN} 个字符，请加长"
    if len(password) > 128:
        return "新密码最多 128 个字符"
    if password.isdigit():
        return "新密码不能全是数字，请加入字母或符号"
    if username and password.lower() == username.lower():
        return "新密码不能与用户名相同"
    if password.lower() in common_passwords():
        return "这个密码太常见，容易被猜中，请换一个"
    return None


class LoginForm(BaseForm):
    username = StringField("用户名", validators=[required("用户名"), max_length("用户名", 40)])
    password = PasswordField("密码", validators=[required("密码"), max_length("密码", 128)])


class ChangePasswordForm(BaseForm):
    current_password = PasswordField("当前密码", validators=[required("当前密码")])
    new_password = PasswordField("新密码", description=PASSWORD_RULES, validators=[required("新密码")])
    confirm_password = PasswordField(
        "再次输入新密码",
        validators=[required("再次输入新密码"), EqualTo("new_password", message="两次输入的新密码不一致，请重新输入")],
    )

    def __init__(self, user, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def validate_current_password(self, field):
        if not self.user.check_password(field.data or ""):
            raise ValidationError("当前密码不正确，请重新输入")

    def validate_new_password(self, field):
        problem = check_password_strength(field.data or "", self.user.username)
        if problem:
            raise ValidationError(problem)
        if self.user.check_password(field.data or ""):
            raise ValidationError("新密码不能与当前密码相同")
