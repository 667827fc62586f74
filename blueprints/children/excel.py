"""The survey (摸底排查, plan §10) in Excel: the template workbook, reading and checking a filled-in
workbook, importing it all or nothing, and exporting the registry.

One reader serves the web page and the command line: `read_survey()` checks every row with the
same rules the registration form uses (validation.parse_date, validation.check_identity) and
returns the good rows and a list of (row as Excel shows it, column, what to fix). `import_survey()`
writes only a workbook without a single error, through services.create_child, in the caller's
transaction. The file checks and the reading of rows are core/workbook.py's, shared with the
volunteer roster."""
from __future__ import annotations

import json
import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import Callable, Iterable

from flask import current_app
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select

from blueprints.places.models import School, Village
from blueprints.children.models import (
    DISABILITY_GRADES,
    DISABILITY_KINDS,
    RELATIONS,
    Child,
    ChildCategory,
    FamilyMember,
    ImportBatch,
)
from blueprints.children.search import ChildFilters, describe_id_query, id_query, ordered_for_export
from blueprints.children.services import FamilyInput, create_child
from blueprints.children.validation import DateError, check_identity, parse_date
from blueprints.core import audit, spreadsheet
from blueprints.places.access import reachable_schools, reachable_villages
from blueprints.core.clock import local_today
from blueprints.core.disclosure import disclosure_for
from blueprints.core.vocabulary import (
    ATTENTION_LEVELS,
    CATEGORIES,
    CATEGORY_SHORT,
    CHILD_AGE,
    GENDERS,
    LEFT_BEHIND_AGE,
    STATUSES,
    age_on,
)
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
    import_dir,
    norm,
    notes_sheet,
    phone_number,
)
from extensions import db

BACKGROUND_ROWS = 500  # above this the web import runs as a background job
TEMPLATE_ROWS = 2000  # rows of the template that carry the dropdowns
DATA_SHEET = "儿童名单"

# The template's columns, in order. A trailing * marks a column that must be filled in.
TEMPLATE_HEADERS = [
    "姓名*", "身份证号", "性别", "出生日期", "民族", "居住村*", "户籍村", "住址", "学校", "年级", "班级", "儿童类别*",
    "关注等级", "健康状况", "残疾类别", "残疾等级", "残疾证号", "监护人姓名", "监护人关系", "监护人电话",
    "父亲姓名", "父亲电话", "父亲外出务工", "母亲姓名", "母亲电话", "母亲外出务工", "委托照护人", "照护人关系",
    "照护人电话", "父母确认委托日期",
]
SURVEY = Layout(sheet=DATA_SHEET, headers=TEMPLATE_HEADERS, noun="儿童", document="摸底排查表")
COLUMNS = SURVEY.columns
_ORDER = SURVEY.order
DATE_COLUMNS = {"出生日期", "父母确认委托日期"}
TEXT_FORMAT_COLUMNS = {"身份证号", "残疾证号", "监护人电话", "父亲电话", "母亲电话", "照护人电话"}
WIDTHS = {"身份证号": 21, "住址": 24, "学校": 18, "儿童类别": 26, "健康状况": 14, "残疾证号": 20,
          "父母确认委托日期": 16, "居住村": 12, "户籍村": 12}
LIMITS = {  # the column sizes of the model, in characters
    "姓名": 40, "民族": 20, "住址": 200, "年级": 20, "班级": 20, "健康状况": 200, "残疾证号": 40, "监护人姓名": 40,
    "父亲姓名": 40, "母亲姓名": 40, "委托照护人": 40,
}

GENDER_WORDS = {"男": "male", "女": "female", "男性": "male", "女性": "female"}
ATTENTION_WORDS = {label: code for code, label in ATTENTION_LEVELS.items()} | {"重点": "key"}
YES_NO = {"是": True, "否": False}
NO_ID_WORDS = {"无", "暂无", "没有", "/", "-", "—", "无户口"}
CATEGORY_WORDS = {norm(label): code for code, label in CATEGORIES.items()} | {
    norm(label): code for code, label in CATEGORY_SHORT.items()
}

RACE = "导入时发现有儿童刚刚被别人登记，没有导入任何儿童。请重新上传文件检查。"


# ---------------------------------------------------------------------------------------------
# What the importing user may reach


@dataclass
class Reach:
    """Villages and schools by exact name: (id, active). A name outside reach is not known."""

    villages: dict[str, tuple[int, bool]]
    schools: dict[str, tuple[int, bool]]

    @classmethod
    def of(cls, user) -> "Reach":
        return cls(_names(reachable_villages(user), Village), _names(reachable_schools(user), School))

    @classmethod
    def town(cls) -> "Reach":
        """The command line: the whole town."""
        return cls(_names(select(Village), Village), _names(select(School), School))

    def active_villages(self) -> list[str]:
        return sorted(name for name, (_, active) in self.villages.items() if active)

    def active_schools(self) -> list[str]:
        return sorted(name for name, (_, active) in self.schools.items() if active)


def _names(query, model) -> dict[str, tuple[int, bool]]:
    rows = db.session.execute(query.with_only_columns(model.id, model.name, model.active).order_by(None))
    return {name: (id_, active) for id_, name, active in rows}


# ---------------------------------------------------------------------------------------------
# The template workbook


def template_workbook(reach: Reach) -> bytes:
    """The empty survey workbook: headers, the allowed values on a second sheet, dropdowns."""
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    spreadsheet.append(ws, TEMPLATE_HEADERS)
    for i, header in enumerate(TEMPLATE_HEADERS, start=1):
        header_style(ws.cell(row=1, column=i), header.endswith("*"))
        letter = get_column_letter(i)
        name = COLUMNS[i - 1]
        ws.column_dimensions[letter].width = WIDTHS.get(name, 11)
        if name in TEXT_FORMAT_COLUMNS:
            # Text, so that Excel keeps all 18 digits and the leading 0 of an area code.
            ws.column_dimensions[letter].number_format = "@"
        elif name in DATE_COLUMNS:
            ws.column_dimensions[letter].number_format = "yyyy-mm-dd"
    ws.row_dimensions[1].height = 30
    ws.freeze_panes = "B2"

    ranges = choices_sheet(wb, {
        "村": reach.active_villages(),
        "学校": reach.active_schools(),
        "儿童类别": list(CATEGORIES.values()),
        "儿童类别（简称，也可用）": list(CATEGORY_SHORT.values()),
        "关注等级": list(ATTENTION_LEVELS.values()),
        "性别": list(GENDERS.values()),
        "关系": list(RELATIONS),
        "残疾类别": list(DISABILITY_KINDS),
        "残疾等级": list(DISABILITY_GRADES),
        "是否": list(YES_NO),
    })

    dropdowns = {  # column of the data sheet → the list it picks from
        "性别": "性别", "居住村": "村", "户籍村": "村", "学校": "学校", "儿童类别": "儿童类别", "关注等级": "关注等级",
        "残疾类别": "残疾类别", "残疾等级": "残疾等级", "监护人关系": "关系", "照护人关系": "关系",
        "父亲外出务工": "是否", "母亲外出务工": "是否",
    }
    for column, list_name in dropdowns.items():
        if list_name not in ranges:
            continue  # no villages or schools yet: nothing to pick from
        letter = get_column_letter(_ORDER[column] + 1)
        several = column == "儿童类别"  # several categories are typed, so the list only suggests
        dv = DataValidation(
            type="list", formula1=ranges[list_name], allow_blank=True, showErrorMessage=not several,
            errorTitle="不在可选值中", error=f"请从下拉列表中选择{column}（见“{CHOICES_SHEET}”表）。",
            showInputMessage=several, promptTitle="儿童类别" if several else None,
            prompt="可选一个，或输入多个，用“、”分隔，如：留守儿童、困境儿童（家庭贫困）" if several else None,
        )
        dv.add(f"{letter}2:{letter}{TEMPLATE_ROWS + 1}")
        ws.add_data_validation(dv)

    notes_sheet(wb, [
        "儿童摸底排查表填写说明",
        "1. 在“儿童名单”表中一行填一名儿童，第一行的列名不要改动。带 * 的列必须填写。",
        "2. 身份证号填 18 位；填了身份证号，出生日期和性别可以不填（由身份证号得出），填了则必须与身份证号一致。",
        "3. 没有身份证号的儿童，身份证号留空，但必须填写出生日期和性别。",
        "4. 日期可写成 2015-03-02、2015.3.2、2015/3/2、2015年3月2日 或 20150302。",
        "5. 居住村、户籍村、学校须与“可选值”表中的名称完全一致。",
        "6. 儿童类别可填多个，用“、”分隔，如：留守儿童、困境儿童（家庭贫困）。留守儿童须未满16周岁。",
        "7. 电话填 11 位手机号，或带区号的座机号（如 0530-1234567）。",
        "8. 监护人是父亲或母亲时，监护人关系填“父亲”或“母亲”，姓名与父亲（母亲）姓名一致。",
        "9. 上传后系统逐行检查；只要有一行有问题，就一名也不导入，请按提示改正后重新上传。",
        f"10. 一个文件最多 {current_app.config['IMPORT_MAX_ROWS']} 名儿童；名单更长时请分成几个文件上传。",
    ])

    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Reading and checking


@dataclass
class SurveyRow:
    row: int
    values: dict  # Child columns
    categories: list[str]
    family: list[FamilyInput]


@dataclass
class SurveyResult:
    report: Report
    rows: list[SurveyRow]  # every row that passed (all of them when report.ok)


class _RowChecker:
    """Checks one row; `bad()` collects what is wrong, by column."""

    def __init__(self, row: int, raw: dict, reach: Reach, today: date):
        self.row, self.raw, self.reach, self.today = row, raw, reach, today
        self.text = {name: cell_text(value) for name, value in raw.items() if name not in DATE_COLUMNS}
        self.errors: list[Error] = []
        self.parsed_id = None

    def bad(self, column: str, reason: str) -> None:
        self.errors.append((self.row, column, reason))

    def has_error(self, column: str) -> bool:
        return any(c == column for _, c, _ in self.errors)

    def date(self, column: str) -> date | None:
        value = self.raw.get(column)
        try:
            return parse_date(value.strip() if isinstance(value, str) else value)
        except DateError as error:
            self.bad(column, str(error))
            return None

    def choice(self, column: str, allowed: dict | list, shown: Iterable[str] | None = None):
        """The code (dict) or the value (list) for a word from a fixed list; `shown` lists it in the reason."""
        text = self.text[column]
        if not text:
            return None
        if isinstance(allowed, dict):
            if text in allowed:
                return allowed[text]
        elif text in allowed:
            return text
        self.bad(column, f"“{text}”不是可选的值，请填写：{'、'.join(shown or allowed)}")
        return None

    def place(self, column: str, names: dict[str, tuple[int, bool]], kind: str) -> int | None:
        name = self.text[column]
        if not name:
            return None
        found = names.get(name)
        if found is None:  # unknown and out of reach look the same: nothing is told of other villages
            self.bad(column, f"没有名为“{name}”的{kind}，或不在您的工作范围内；请按“{CHOICES_SHEET}”表中的名称填写")
            return None
        place_id, active = found
        if not active:
            self.bad(column, f"“{name}”已停用，不能再登记儿童；请核对{kind}名")
            return None
        return place_id

    def phone(self, column: str) -> str | None:
        text = self.text[column]
        if not text:
            return None
        number = phone_number(text)
        if number is None:
            self.bad(column, f"电话“{text}”格式不对：手机号是 11 位数字，座机要带区号（如 0530-1234567）")
        return number

    def relation(self, column: str) -> str | None:
        return self.choice(column, RELATIONS)

    def check(self) -> SurveyRow | None:
        t = self.text
        for column, limit in LIMITS.items():
            if len(t[column]) > limit:
                self.bad(column, f"不能超过 {limit} 个字，现在是 {len(t[column])} 个")
        if not t["姓名"]:
            self.bad("姓名", "请填写姓名")

        gender = self.choice("性别", GENDER_WORDS, GENDERS.values())
        birth = self.date("出生日期")
        birth_typed = birth is not None

        id_value = self.raw.get("身份证号")
        id_text = "" if isinstance(id_value, float) else cell_text(id_value)
        if id_text in NO_ID_WORDS:
            id_text = ""
        if isinstance(id_value, float):
            self.bad("身份证号", "身份证号被 Excel 存成了数字，后几位已丢失：请把这一列设为“文本”格式后重新输入")
        else:
            parsed, identity = check_identity(id_text or None, gender, birth, today=self.today)
            for key, column in (("id_number", "身份证号"), ("birth_date", "出生日期"), ("gender", "性别")):
                if key in identity and not self.has_error(column):  # one reason per column
                    self.bad(column, identity[key])
            self.parsed_id = parsed
            if parsed is not None:
                gender = gender or parsed.gender
                birth = birth or parsed.birth_date

        age = age_on(birth, self.today) if birth else None
        if age is not None and age >= CHILD_AGE and not self.has_error("出生日期"):
            column = "出生日期" if birth_typed else "身份证号"
            self.bad(column, f"已年满{CHILD_AGE}周岁（{age}岁），不在儿童关爱范围内；请核对{column}")

        residence = self.place("居住村", self.reach.villages, "村")
        if not t["居住村"]:
            self.bad("居住村", f"请填写居住村（村名见“{CHOICES_SHEET}”表）")
        hukou = self.place("户籍村", self.reach.villages, "村")
        school = self.place("学校", self.reach.schools, "学校")

        categories: list[str] = []
        if not t["儿童类别"]:
            self.bad("儿童类别", "请填写儿童类别（可填多个，用“、”分隔）")
        else:
            categories, unknown = codes_in(t["儿童类别"], CATEGORY_WORDS)
            if unknown:
                self.bad("儿童类别", f"不认识的儿童类别“{'、'.join(unknown)}”，请按“{CHOICES_SHEET}”表填写，多个用“、”分隔")
            elif "left_behind" in categories and age is not None and age >= LEFT_BEHIND_AGE:
                self.bad("儿童类别", f"已满{LEFT_BEHIND_AGE}周岁（{age}岁），不能登记为留守儿童；请核对出生日期或改填其他类别")

        attention = self.choice("关注等级", ATTENTION_WORDS, ATTENTION_LEVELS.values()) if t["关注等级"] else "general"
        disability_kind = self.choice("残疾类别", DISABILITY_KINDS)
        disability_grade = self.choice("残疾等级", DISABILITY_GRADES)

        family = self.family()

        caregiver_phone = self.phone("照护人电话")
        caregiver_relation = self.relation("照护人关系")
        confirmed_on = self.date("父母确认委托日期")
        if confirmed_on and confirmed_on > self.today:
            self.bad("父母确认委托日期", "父母确认委托日期不能晚于今天")
        if not t["委托照护人"] and (t["照护人关系"] or t["照护人电话"] or confirmed_on):
            self.bad("委托照护人", "填写了照护人关系、电话或确认日期，请同时填写委托照护人姓名")

        if self.errors:
            return None
        values = dict(
            name=t["姓名"], id_number=self.parsed_id.number if self.parsed_id else None, gender=gender,
            birth_date=birth, ethnicity=t["民族"] or "汉族", residence_village_id=residence,
            hukou_village_id=hukou, address=t["住址"] or None, school_id=school, grade=t["年级"] or None,
            class_name=t["班级"] or None,
            health=t["健康状况"] or None, disability_kind=disability_kind, disability_grade=disability_grade,
            disability_certificate=t["残疾证号"] or None, attention_level=attention,
            caregiver_name=t["委托照护人"] or None, caregiver_relation=caregiver_relation,
            caregiver_phone=caregiver_phone, caregiver_confirmed_on=confirmed_on,
        )
        return SurveyRow(row=self.row, values=values, categories=categories, family=family)

    def family(self) -> list[FamilyInput]:
        t = self.text
        parents = {}
        for relation, prefix in (("父亲", "父亲"), ("母亲", "母亲")):
            phone = self.phone(f"{prefix}电话")
            away = self.choice(f"{prefix}外出务工", YES_NO)
            if not t[f"{prefix}姓名"] and (t[f"{prefix}电话"] or away):
                self.bad(f"{prefix}姓名", f"填写了{prefix}电话或外出务工，请同时填写{prefix}姓名")
            parents[relation] = FamilyInput(relation=relation, name=t[f"{prefix}姓名"], phone=phone,
                                            works_away=bool(away))

        guardian = None
        name, relation_text = t["监护人姓名"], t["监护人关系"]
        relation = self.relation("监护人关系")
        phone = self.phone("监护人电话")
        if not name and (relation_text or t["监护人电话"]):
            self.bad("监护人姓名", "填写了监护人关系或电话，请同时填写监护人姓名")
        elif name and not relation_text:
            self.bad("监护人关系", "请填写监护人与儿童的关系（如 祖母）")
        elif name and relation in parents:
            parent = parents[relation]
            if parent.name and parent.name != name:
                self.bad("监护人姓名", f"监护人关系是{relation}，但姓名与“{relation}姓名”不同，请核对")
            else:  # the guardian is this parent: one family member, not two
                parent.name = name
                parent.phone = parent.phone or phone
                parent.is_guardian = True
        elif name and relation:
            guardian = FamilyInput(relation=relation, name=name, phone=phone, is_guardian=True)
        return ([guardian] if guardian else []) + [p for p in parents.values() if p.name]


def read_survey(source, reach: Reach, on_progress: Callable[[int], None] | None = None,
                today: date | None = None) -> SurveyResult:
    """Check every row of a survey workbook (a path or a file object). Blank rows are skipped.
    Never raises for a bad file: the report says what is wrong."""
    today = today or local_today()
    report = Report()
    rows: list[SurveyRow] = []
    ids: dict[str, list[int]] = defaultdict(list)  # ID number → rows

    def check(number: int, raw: dict) -> None:
        checker = _RowChecker(number, raw, reach, today)
        row = checker.check()
        report.errors.extend(checker.errors)
        if checker.parsed_id is not None:
            ids[checker.parsed_id.number].append(number)
        if row is not None:
            rows.append(row)
        if on_progress and report.total % 100 == 0:
            on_progress(report.total)

    try:
        SURVEY.read(source, report, check)
    except WorkbookError as error:
        return SurveyResult(Report(problem=str(error)), [])

    for number, found in ids.items():  # the same child twice in the file
        if len(found) > 1:
            for row in found:
                others = "、".join(str(r) for r in found if r != row)
                report.errors.append((row, "身份证号", f"与第{others}行的身份证号重复，同一名儿童只填一行"))
    registered = _registered([n for n in ids])
    for number, archive_no in registered.items():
        for row in ids[number]:
            report.errors.append((row, "身份证号", f"已登记（档案号 {archive_no}），不要重复导入；如需修改请打开该儿童档案"))
    report.errors.sort(key=lambda e: (e[0], _ORDER.get(e[1], 99)))
    bad = {row for row, _, _ in report.errors}
    return SurveyResult(report, [row for row in rows if row.row not in bad])


def _chunks(items: list, size: int = 500):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _registered(numbers: list[str]) -> dict[str, str]:
    """ID numbers already in the registry (anywhere in the town), with their archive numbers."""
    found = {}
    for chunk in _chunks(numbers):
        found.update(db.session.execute(
            select(Child.id_number, Child.archive_no).where(Child.id_number.in_(chunk))).all())
    return found


# ---------------------------------------------------------------------------------------------
# Import batches and importing


def new_upload_name(batch: ImportBatch) -> str:
    """<batch id>-<random>.xlsx: not guessable, and never the file of another database's batch."""
    return f"{batch.id}-{secrets.token_hex(8)}.xlsx"


def upload_path(batch: ImportBatch) -> Path | None:
    name = json.loads(batch.report or "{}").get("upload")
    return import_dir() / name if name else None


def remove_upload(batch: ImportBatch) -> None:
    path = upload_path(batch)
    if path is not None:
        path.unlink(missing_ok=True)


def reject_batch(batch: ImportBatch, report: Report) -> None:
    record_report(batch, report, status="rejected")
    remove_upload(batch)


def record_report(batch: ImportBatch, report: Report, status: str | None = None, upload: str | None = None) -> None:
    """Keep the report on the batch: previewed (all good), rejected (any problem), or `status`."""
    batch.status = status or ("previewed" if report.ok else "rejected")
    batch.total_rows = report.total
    batch.bad_rows = report.bad_rows
    upload = upload or json.loads(batch.report or "{}").get("upload")
    batch.report = report.to_json(upload=upload) if upload else report.to_json()


def batch_report(batch: ImportBatch) -> Report:
    return Report.from_json(batch.report)


def import_survey(result: SurveyResult, batch: ImportBatch, *, actor,
                  on_progress: Callable[[int], None] | None = None) -> int:
    """Register every row of a workbook without errors, in the caller's transaction, as `actor`
    (the signed-in user, the job's user, or the command line's); the caller commits (or rolls
    back, and nothing is kept). Returns how many children were registered."""
    if not result.report.ok:
        raise ValueError("only a survey without errors is imported")
    children = []
    for i, row in enumerate(result.rows, start=1):
        child = create_child(dict(row.values, import_batch_id=batch.id), row.categories,
                             [FamilyInput(**member.__dict__) for member in row.family], actor=actor,
                             source="导入")
        children.append(child)
        if on_progress and i % 100 == 0:
            on_progress(i)
    record_report(batch, result.report, status="imported")
    batch.imported = len(children)
    audit.record("children_imported", batch, user=actor,
                 detail=f"{batch.filename}：导入 {len(children)} 名儿童（第 {batch.id} 批）")
    return len(children)


# ---------------------------------------------------------------------------------------------
# Export


EXPORT_HEADERS = (["档案号"] + COLUMNS[:COLUMNS.index("监护人关系")] + ["监护人身份证号"]
                  + COLUMNS[COLUMNS.index("监护人关系"):] + ["状态"])
_EXPORT_WIDTHS = {"档案号": 12, "监护人身份证号": 21}


def describe_filters(filters: ChildFilters) -> str:
    parts = []
    if filters.q:
        number = id_query(filters.q)
        parts.append(describe_id_query(number) if number else f"关键词“{filters.q}”")  # never the number
    if filters.village:
        parts.append("村：" + (db.session.scalar(select(Village.name).where(Village.id == filters.village)) or "?"))
    if filters.school:
        parts.append("学校：" + (db.session.scalar(select(School.name).where(School.id == filters.school)) or "?"))
    if filters.category:
        parts.append("类别：" + CATEGORIES[filters.category])
    if filters.attention:
        parts.append("关注等级：" + ATTENTION_LEVELS[filters.attention])
    parts.append("状态：" + {"current": "在册和已登记", "all": "全部"}.get(filters.status, STATUSES.get(filters.status, "")))
    return "，".join(parts)


def export_workbook(user, filters: ChildFilters) -> tuple[bytes, int]:
    """The filtered list within the user's reach as a workbook, and how many children it holds,
    each value as far as the disclosure policy lets the user see it.
    A fixed number of queries whatever the count; rows are written as they are read."""
    query = ordered_for_export(user, filters)
    child_ids = query.with_only_columns(Child.id).order_by(None)
    villages = dict(db.session.execute(select(Village.id, Village.name)).all())
    schools = dict(db.session.execute(select(School.id, School.name)).all())
    categories: dict[int, list[str]] = defaultdict(list)
    for child_id, code in db.session.execute(
            select(ChildCategory.child_id, ChildCategory.category).where(ChildCategory.child_id.in_(child_ids))
            .order_by(ChildCategory.child_id, ChildCategory.category)):
        categories[child_id].append(CATEGORIES.get(code, code))
    family: dict[int, list] = defaultdict(list)
    for member in db.session.execute(
            select(FamilyMember.child_id, FamilyMember.relation, FamilyMember.name, FamilyMember.id_number,
                   FamilyMember.phone, FamilyMember.works_away, FamilyMember.is_guardian)
            .where(FamilyMember.child_id.in_(child_ids)).order_by(FamilyMember.id)):
        family[member.child_id].append(member)

    d = disclosure_for(user)

    def show(name, value):
        return d.show(name, value) or None
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(DATA_SHEET)
    for i, header in enumerate(EXPORT_HEADERS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = _EXPORT_WIDTHS.get(header, WIDTHS.get(header, 11))
    ws.freeze_panes = "C2"
    spreadsheet.append(ws, EXPORT_HEADERS, font=Font(bold=True))

    columns = query.with_only_columns(
        Child.id, Child.archive_no, Child.name, Child.id_number, Child.gender, Child.birth_date, Child.ethnicity,
        Child.residence_village_id, Child.hukou_village_id, Child.address, Child.school_id, Child.grade, Child.class_name,
        Child.attention_level, Child.health, Child.disability_kind, Child.disability_grade,
        Child.disability_certificate, Child.caregiver_name, Child.caregiver_relation, Child.caregiver_phone,
        Child.caregiver_confirmed_on, Child.status,
    )
    count = 0
    for c in db.session.execute(columns.execution_options(yield_per=1000)):
        members = family.get(c.id, [])
        guardian = next((m for m in members if m.is_guardian), None)
        father = next((m for m in members if m.relation == "父亲"), None)
        mother = next((m for m in members if m.relation == "母亲"), None)
        spreadsheet.append(ws, [
            c.archive_no, c.name, show("child.id_number", c.id_number), GENDERS.get(c.gender, c.gender),
            show("child.birth_date", c.birth_date), show("child.ethnicity", c.ethnicity),
            villages.get(c.residence_village_id, ""), show("child.hukou_village", villages.get(c.hukou_village_id)),
            show("child.address", c.address),
            schools.get(c.school_id, ""), c.grade, c.class_name, show("child.categories", "、".join(categories.get(c.id, []))),
            show("child.attention_level", ATTENTION_LEVELS.get(c.attention_level, c.attention_level)),
            show("child.health", c.health), show("child.disability", c.disability_kind),
            show("child.disability", c.disability_grade), show("child.disability_certificate", c.disability_certificate),
            show("family.member", guardian.name) if guardian else None,
            show("family.id_number", guardian.id_number) if guardian else None,
            show("family.member", guardian.relation) if guardian else None,
            show("family.phone", guardian.phone) if guardian else None,
            show("family.member", father.name) if father else None, show("family.phone", father.phone) if father else None,
            show("family.member", "是" if father.works_away else "否") if father else None,
            show("family.member", mother.name) if mother else None, show("family.phone", mother.phone) if mother else None,
            show("family.member", "是" if mother.works_away else "否") if mother else None,
            show("child.caregiver", c.caregiver_name), show("child.caregiver", c.caregiver_relation),
            show("child.caregiver_phone", c.caregiver_phone), show("child.caregiver", c.caregiver_confirmed_on),
            STATUSES.get(c.status, c.status),
        ])
        count += 1
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), count
