"""The volunteer roster in Excel: the template workbook, checking a filled-in workbook row by row,
and importing it all or nothing, as the children's survey import does; both read through
core/workbook.py (an xlsx package only, its unpacked size and its rows capped before openpyxl
parses anything, cached values read and never a formula run).

Each row is one volunteer and her login. The initial password is a column of the file, checked by
the same policy as the admin's user form; the uploaded file is deleted once it is imported or
refused. Nothing forces a new password at her first sign-in: the managers are asked (template
notes, the page) to tell her to change it under 修改密码."""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from io import BytesIO
from typing import Callable

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import func, select

from blueprints.auth.forms import check_password_strength
from blueprints.auth.models import User
from blueprints.core import audit, spreadsheet
from blueprints.core.vocabulary import SKILLS, VOLUNTEER_KINDS
from blueprints.core.workbook import (
    CHOICES_SHEET,
    Error,
    Layout,
    Report,
    WorkbookError,
    cell_text,
    choices_sheet,
    codes_in,
    header_style,
    norm,
    notes_sheet,
    phone_number,
)
from blueprints.volunteers.roster import (
    CAPACITY_MAX,
    CAPACITY_MIN,
    USERNAME_PATTERN,
    USERNAME_RULE,
    create_volunteer,
    organisations,
    villages,
)
from extensions import db

DATA_SHEET = "志愿者名单"
TEMPLATE_ROWS = 500  # rows of the template that carry the dropdowns
TEMPLATE_HEADERS = ["姓名*", "类别*", "所属组织", "所在村", "电话", "特长", "可结对人数", "登录名*", "初始密码*"]
ROSTER = Layout(sheet=DATA_SHEET, headers=TEMPLATE_HEADERS, noun="志愿者", document="志愿者名单")
COLUMNS = ROSTER.columns
_ORDER = ROSTER.order
TEXT_COLUMNS = {"电话", "登录名", "初始密码"}  # as text, so that Excel keeps a leading 0 and digits
WIDTHS = {"所属组织": 22, "特长": 26, "登录名": 14, "初始密码": 16}
DEFAULT_CAPACITY = 2
KIND_WORDS = {norm(label): code for code, label in VOLUNTEER_KINDS.items()}
SKILL_WORDS = {norm(label): code for code, label in SKILLS.items()}


@dataclass
class RosterRow:
    row: int
    values: dict  # Volunteer columns
    skills: list[str]
    username: str
    password: str


@dataclass
class RosterResult:
    report: Report
    rows: list[RosterRow]  # every row that passed (all of them when report.ok)


# ---------------------------------------------------------------------------------------------
# The template


def template_workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    spreadsheet.append(ws, TEMPLATE_HEADERS)
    for i, header in enumerate(TEMPLATE_HEADERS, start=1):
        header_style(ws.cell(row=1, column=i), header.endswith("*"))
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = WIDTHS.get(COLUMNS[i - 1], 12)
        if COLUMNS[i - 1] in TEXT_COLUMNS:
            ws.column_dimensions[letter].number_format = "@"
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "B2"

    ranges = choices_sheet(wb, {
        "类别": list(VOLUNTEER_KINDS.values()),
        "所属组织": [o.name for o in organisations(active_only=True)],
        "村": [v.name for v in villages()],
        "特长": list(SKILLS.values()),
    })
    for column, list_name in {"类别": "类别", "所属组织": "所属组织", "所在村": "村"}.items():
        if list_name not in ranges:
            continue  # no organisations yet: nothing to pick from
        letter = get_column_letter(_ORDER[column] + 1)
        dv = DataValidation(type="list", formula1=ranges[list_name], allow_blank=True, showErrorMessage=True,
                            errorTitle="不在可选值中", error=f"请从下拉列表中选择{column}（见“{CHOICES_SHEET}”表）。")
        dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        ws.add_data_validation(dv)

    notes_sheet(wb, [
        "志愿者名单填写说明",
        "1. 在“志愿者名单”表中一行填一名志愿者，第一行的列名不要改动。带 * 的列必须填写。",
        f"2. 类别填：{'、'.join(VOLUNTEER_KINDS.values())}。",
        f"3. 所属组织、所在村须与“{CHOICES_SHEET}”表中的名称完全一致；没有可留空。新的组织请先在系统“组织和站点”中添加。",
        f"4. 特长可填多个，用“、”分隔，如：课业辅导、阅读陪伴。可选：{'、'.join(SKILLS.values())}。",
        f"5. 可结对人数填 {CAPACITY_MIN} 到 {CAPACITY_MAX} 的整数，留空按 {DEFAULT_CAPACITY} 人。",
        "6. 登录名是她登录手机用的名字：字母、数字、下划线、点或短横线，3–40 个字符，不能与已有账号重复。",
        "7. 初始密码至少 10 个字符，不能全是数字，不能与登录名相同，不能是常见密码。请当面告诉本人：本人第一次登录时要先改成自己的密码。"
        "导入后系统删除上传的文件；填了密码的这份表格请妥善保管或删除。",
        "8. 电话填 11 位手机号，或带区号的座机号（如 0530-1234567）。",
        "9. 上传后系统逐行检查；只要有一行有问题，就一名也不导入，请按提示改正后重新上传。",
    ])
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Reading and checking


class _RowChecker:
    def __init__(self, row: int, raw: dict, organisation_ids: dict[str, int], village_ids: dict[str, int]):
        self.row, self.raw = row, raw
        self.text = {name: cell_text(value) for name, value in raw.items()}
        self.organisation_ids, self.village_ids = organisation_ids, village_ids
        self.errors: list[Error] = []

    def bad(self, column: str, reason: str) -> None:
        self.errors.append((self.row, column, reason))

    def place(self, column: str, names: dict[str, int], kind: str) -> int | None:
        name = self.text[column]
        if not name:
            return None
        if name not in names:
            self.bad(column, f"没有名为“{name}”的{kind}（或已停用）；请按“{CHOICES_SHEET}”表中的名称填写，或留空")
        return names.get(name)

    def check(self) -> RosterRow | None:
        t = self.text
        if not t["姓名"]:
            self.bad("姓名", "请填写姓名")
        elif len(t["姓名"]) > 40:
            self.bad("姓名", f"不能超过 40 个字，现在是 {len(t['姓名'])} 个")

        kind = KIND_WORDS.get(norm(t["类别"]))
        if not t["类别"]:
            self.bad("类别", f"请填写类别：{'、'.join(VOLUNTEER_KINDS.values())}")
        elif kind is None:
            self.bad("类别", f"“{t['类别']}”不是可选的类别，请填写：{'、'.join(VOLUNTEER_KINDS.values())}")

        organisation = self.place("所属组织", self.organisation_ids, "组织或站点")
        village = self.place("所在村", self.village_ids, "村")

        phone = None
        if t["电话"]:
            phone = phone_number(t["电话"])
            if phone is None:
                self.bad("电话", f"电话“{t['电话']}”格式不对：手机号是 11 位数字，座机要带区号（如 0530-1234567）")

        skills, unknown = codes_in(t["特长"], SKILL_WORDS)
        if unknown:
            self.bad("特长", f"不认识的特长“{'、'.join(unknown)}”，请填写：{'、'.join(SKILLS.values())}，多个用“、”分隔")

        capacity = DEFAULT_CAPACITY
        if t["可结对人数"]:
            number = norm(t["可结对人数"])
            if not (number.isascii() and number.isdigit()):
                self.bad("可结对人数", f"“{t['可结对人数']}”不是整数，请填写 {CAPACITY_MIN} 到 {CAPACITY_MAX} 的整数")
            elif not CAPACITY_MIN <= int(number) <= CAPACITY_MAX:
                self.bad("可结对人数", f"应在 {CAPACITY_MIN} 到 {CAPACITY_MAX} 之间，现在是 {int(number)}")
            else:
                capacity = int(number)

        username = t["登录名"]
        if not username:
            self.bad("登录名", "请填写登录名，如 zhiyuan7")
        elif not re.fullmatch(USERNAME_PATTERN, username):
            self.bad("登录名", f"“{username}”不能用：{USERNAME_RULE}")

        password = t["初始密码"]
        if not password:
            self.bad("初始密码", "请填写初始密码（至少 10 个字符）")
        else:
            problem = check_password_strength(password, username)
            if problem:
                self.bad("初始密码", problem.replace("新密码", "初始密码"))  # never the password itself

        if self.errors:
            return None
        return RosterRow(row=self.row, skills=skills, username=username, password=password, values=dict(
            name=t["姓名"], kind=kind, organisation_id=organisation, village_id=village, phone=phone,
            capacity=capacity, note=None))


def read_roster(source, on_progress: Callable[[int], None] | None = None) -> RosterResult:
    """Check every row of a roster workbook (a path or a file object). Blank rows are skipped.
    Never raises for a bad file: the report says what is wrong."""
    report = Report()
    rows: list[RosterRow] = []
    usernames: dict[str, list[int]] = defaultdict(list)  # lowered → rows
    organisation_ids = {o.name: o.id for o in organisations(active_only=True)}
    village_ids = {v.name: v.id for v in villages()}

    def check(number: int, raw: dict) -> None:
        checker = _RowChecker(number, raw, organisation_ids, village_ids)
        row = checker.check()
        report.errors.extend(checker.errors)
        if checker.text["登录名"]:
            usernames[checker.text["登录名"].lower()].append(number)
        if row is not None:
            rows.append(row)
        if on_progress and report.total % 20 == 0:
            on_progress(report.total)

    try:
        ROSTER.read(source, report, check)
    except WorkbookError as error:
        return RosterResult(Report(problem=str(error)), [])

    for found in usernames.values():  # the same login twice in the file
        if len(found) > 1:
            for row in found:
                others = "、".join(str(r) for r in found if r != row)
                report.errors.append((row, "登录名", f"与第{others}行的登录名重复，每人的登录名须不同"))
    for lowered in _taken(list(usernames)):
        for row in usernames[lowered]:
            report.errors.append((row, "登录名", "这个登录名已被系统中的账号使用，请换一个"))
    report.errors.sort(key=lambda e: (e[0], _ORDER.get(e[1], 99)))
    bad = {row for row, _, _ in report.errors}
    return RosterResult(report, [row for row in rows if row.row not in bad])


def _taken(lowered: list[str]) -> set[str]:
    """Login names (lowered) already registered, whatever their case."""
    taken: set[str] = set()
    for start in range(0, len(lowered), 500):
        chunk = lowered[start:start + 500]
        taken.update(db.session.scalars(select(func.lower(User.username)).where(func.lower(User.username).in_(chunk))))
    return taken


def import_roster(result: RosterResult, logins: list[User], filename: str, *, actor) -> int:
    """Register every row of a workbook without errors (`logins` from new_login, one per row), in the
    caller's transaction; the caller commits, or rolls back and nothing is kept."""
    if not result.report.ok:
        raise ValueError("only a roster without errors is imported")
    for row, login in zip(result.rows, logins, strict=True):
        create_volunteer(row.values, row.skills, login, actor=actor)
    audit.record("volunteers_imported", user=actor, detail=f"{filename}：导入 {len(result.rows)} 名志愿者")
    return len(result.rows)


# ---------------------------------------------------------------------------------------------
# The uploaded file, between the check and the confirmed import
#
# It waits in the imports' folder (core/workbook.py import_dir: private, cleaned daily),
# named after its user and a random token, which the confirm form sends back. Confirming renames it
# (atomic): a second click, or a second tab, finds it gone and imports nothing twice.

_TOKEN = re.compile(r"[0-9a-f]{16}")


def upload_name(user_id: int, token: str) -> str | None:
    """The waiting file of `user_id` named by `token` (None for a token that is not one of ours)."""
    return f"volunteers-{user_id}-{token}.xlsx" if _TOKEN.fullmatch(token or "") else None


def waiting_uploads(user_id: int) -> str:
    """The glob of every file of `user_id` waiting for confirmation (not one being imported)."""
    return f"volunteers-{user_id}-{'[0-9a-f]' * 16}.xlsx"


def claimed_name(name: str) -> str:
    return name.removesuffix(".xlsx") + ".importing.xlsx"  # openpyxl opens by the suffix
