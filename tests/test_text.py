"""The one cleaning rule for text that enters the house (blueprints/core/text.py)."""
from __future__ import annotations

import pytest

from blueprints.core.text import clean_text


@pytest.mark.parametrize("raw, clean", [
    ("张\x0b三", "张三"),
    ("张\x00三", "张三"),
    ("李\x1b[31m四", "李[31m四"),
    ("王\u202e五", "王五"),
    ("赵\ud800六", "赵六"),
    ("钱\x85七", "钱 七"),
    ("孙\t八", "孙 八"),
    ("周\r\n九", "周 九"),
    ("吴\ufffe十", "吴十"),
    ("郑\u0080\u009f一", "郑一"),
    ("张三\u200b", "张三"),
    ("\ufeff李\u200e四\u00ad", "李四"),
    ("普通的名字", "普通的名字"),
    ("", ""),
])
def test_one_line_text_loses_control_characters(raw, clean):
    assert clean_text(raw) == clean


def test_notes_keep_their_line_breaks_as_newlines():
    assert clean_text("第一行\r\n第二行\r第三行\x00", multiline=True) == "第一行\n第二行\n第三行"


def test_none_stays_none_and_emoji_survive():
    assert clean_text(None) is None
    assert clean_text("👨‍👩‍👧 一家") == "👨‍👩‍👧 一家"  # the joiner is a format character, not a control


def test_every_form_cleans_its_text_fields(app):
    from wtforms import PasswordField, StringField, TextAreaField

    from blueprints.core.forms import BaseForm

    class Sample(BaseForm):
        name = StringField("姓名", filters=[lambda v: v.strip() if v else v])
        note = TextAreaField("备注")
        secret = PasswordField("密码")

    from werkzeug.datastructures import MultiDict
    with app.test_request_context(method="POST"):
        form = Sample(formdata=MultiDict({"name": " 张\x0b三 ", "note": "一\r\n二\x00", "secret": "a\x0bb"}))
        assert form.name.data == "张三"  # cleaned, then the field's own filter
        assert form.note.data == "一\n二"
        assert form.secret.data == "a\x0bb"  # a password is checked as typed, never altered
