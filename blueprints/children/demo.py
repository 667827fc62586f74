"""Synthetic children for demo mode: plausible names, valid ID numbers, families, caregivers,
contact logs, benefits and a mix of categories, spread over the demo villages.

Child number i is made from its own random seed, so running it again makes the same children and
adds none (their ID numbers are already registered); a larger N adds only the ones missing."""
from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from stdnum.cn import ric

from blueprints.places.models import School, Village
from blueprints.children.models import Child
from blueprints.children.services import FamilyInput, add_benefit, add_parent_contact, create_child
from blueprints.core.clock import local_today
from extensions import db

# 巨野县, the county of the demo town: 371724 since 2000, 372930 (菏泽地区) for births before.
REGION, OLD_REGION = "371724", "372930"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段漕钱汤尹黎易常武乔贺赖龚文"
BOY_CHARS = "浩宇轩子涵博文睿泽俊杰明辰磊鹏飞晨阳一航天佑志强嘉诚思远铭豪皓然梓浩瑞霖承宇"
GIRL_CHARS = "欣怡诗涵雨萱梓琪佳慧思雨若曦可馨紫萱雅婷梦瑶语嫣晓雪一诺欣妍子墨佳琪依诺静怡"
ELDER_MEN = "建国振华德胜广志保山守成长顺福来"
ELDER_WOMEN = "桂兰秀英玉梅淑珍凤芝翠花秀兰春梅"
PARENT_MEN = "伟强军磊勇涛斌超鹏辉刚明华"
PARENT_WOMEN = "芳娜敏静丽艳娟霞燕玲红梅"
WORK_PLACES = ["江苏苏州", "浙江宁波", "上海", "广东东莞", "北京", "天津", "山东青岛", "河北廊坊", "浙江义乌", "广东深圳"]
WORKS = ["建筑工人", "电子厂工人", "快递员", "餐馆服务员", "保洁", "货车司机", "装修工", "服装厂工人"]
GRADES = {6: "一年级", 7: "二年级", 8: "三年级", 9: "四年级", 10: "五年级", 11: "六年级", 12: "初一", 13: "初二", 14: "初三"}


def _id_number(birth: date, rng: random.Random, male: bool) -> str:
    seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
    region = REGION if birth.year >= 2001 else OLD_REGION
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3579") + "".join(rng.choice("0123456789") for _ in range(9))


def _school_for(age: int, village: Village, schools: list[School]) -> tuple[School | None, str | None]:
    kind = "kindergarten" if 3 <= age <= 5 else "primary" if 6 <= age <= 11 else "middle" if 12 <= age <= 14 else None
    if kind is None:
        return None, None
    serving = [s for s in schools if s.kind == kind and village in s.villages]
    if not serving:
        return None, None
    grade = GRADES.get(age) if kind != "kindergarten" else ["小班", "中班", "大班"][age - 3]
    return serving[0], grade


def _class_for(i: int, school: School | None, grade: str | None) -> str | None:
    """A village primary school's one class a grade, a middle school's two (none in a kindergarten);
    not from the child's random seed, so that the rest of her stays as it was."""
    if school is None or school.kind == "kindergarten":
        return None
    return "1班" if school.kind == "primary" else f"{i % 2 + 1}班"


def demo_child(i: int, villages: list[Village], schools: list[School], today: date) -> dict:
    rng = random.Random(f"guanai-demo-child-{i}")
    male = rng.random() < 0.53
    age_days = rng.randrange(2 * 365, 17 * 365 + 300)
    birth = today - timedelta(days=age_days)
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    surname = rng.choice(SURNAMES)
    chars = BOY_CHARS if male else GIRL_CHARS
    name = surname + "".join(rng.choice(chars) for _ in range(rng.choice([1, 2, 2])))
    village = villages[i % len(villages)] if rng.random() < 0.7 else rng.choice(villages)
    school, grade = _school_for(age, village, schools)

    categories = []
    left_behind = age < 16 and rng.random() < 0.58
    if left_behind:
        categories.append("left_behind")
    roll = rng.random()
    if roll < 0.2:
        categories.append("poverty")
    elif roll < 0.28:
        categories.append("disability")
    elif roll < 0.36:
        categories.append("guardianship")
    elif roll < 0.39:
        categories.append("orphan")
    elif roll < 0.43:
        categories.append("unsupported")
    if not categories:
        categories.append("poverty" if rng.random() < 0.5 else "left_behind" if age < 16 else "guardianship")
        left_behind = "left_behind" in categories
    orphan = "orphan" in categories

    father = f"{surname}{rng.choice(PARENT_MEN)}"
    mother = f"{rng.choice(SURNAMES)}{rng.choice(PARENT_WOMEN)}"
    grandma = f"{rng.choice(SURNAMES)}{rng.choice(ELDER_WOMEN)}"
    grandpa = f"{surname}{rng.choice(ELDER_MEN)}"
    family: list[FamilyInput] = []
    caregiver = {}
    if orphan:
        family.append(FamilyInput(relation="祖母", name=grandma, phone=_phone(rng), is_guardian=True,
                                  guardianship_capacity="limited"))
    else:
        away_f = left_behind or rng.random() < 0.3
        away_m = left_behind or rng.random() < 0.15
        family.append(FamilyInput(relation="父亲", name=father, phone=_phone(rng), works_away=away_f,
                                  work=rng.choice(WORKS), work_place=rng.choice(WORK_PLACES) if away_f else "本镇",
                                  id_number=_id_number(birth - timedelta(days=rng.randrange(9000, 13000)), rng, True),
                                  is_guardian=not left_behind))
        family.append(FamilyInput(relation="母亲", name=mother, phone=_phone(rng), works_away=away_m,
                                  work=rng.choice(WORKS), work_place=rng.choice(WORK_PLACES) if away_m else "本镇"))
        if left_behind:
            keeper = rng.choice([("祖母", grandma), ("祖父", grandpa)])
            phone = _phone(rng)
            family.append(FamilyInput(relation=keeper[0], name=keeper[1], phone=phone, is_guardian=True))
            if rng.random() < 0.85:  # some are still missing a confirmed caregiver: a real gap to show
                caregiver = dict(caregiver_name=keeper[1], caregiver_relation=keeper[0], caregiver_phone=phone,
                                 caregiver_confirmed_on=today - timedelta(days=rng.randrange(20, 600)))
    disability = {}
    if "disability" in categories:
        disability = dict(disability_kind=rng.choice(["肢体", "智力", "听力", "言语", "视力"]),
                          disability_grade=rng.choice(["二级", "三级", "四级"]),
                          disability_certificate=f"3717242{rng.randrange(10**9, 10**10)}")
    return dict(
        values=dict(
            name=name, id_number=_id_number(birth, rng, male), gender="male" if male else "female", birth_date=birth,
            residence_village_id=village.id, hukou_village_id=village.id,
            address=f"{village.name}{rng.randrange(1, 12)}组{rng.randrange(1, 60)}号",
            school_id=school.id if school else None, grade=grade, class_name=_class_for(i, school, grade),
            attention_level="key" if (orphan or "guardianship" in categories or rng.random() < 0.18) else "general",
            status="active",
            state_guardianship="long_term" if orphan and rng.random() < 0.5 else "none",
            guardianship_unit="县民政局" if orphan else None,
            health=rng.choice(["健康", "健康", "健康", "哮喘", "体弱", "近视"]),
            **disability, **caregiver,
        ),
        categories=categories,
        family=family,
        contacts=[(today - timedelta(days=7 * w + rng.randrange(0, 3)), rng.choice(["父亲", "母亲"]),
                   rng.choice(["phone", "video", "video"])) for w in range(rng.randrange(0, 9))] if left_behind else [],
        benefit=("basic_living" if "poverty" in categories or orphan else
                 "rehabilitation" if "disability" in categories else None),
        rng_amount=rng.choice([300, 450, 600, 1200]),
    )


def seed_demo_children(count: int) -> int:
    """Add the first `count` demo children that are not registered yet; return how many were added."""
    villages = list(db.session.scalars(select(Village).where(Village.is_demo.is_(True)).order_by(Village.id)))
    if not villages:
        return 0
    schools = list(db.session.scalars(select(School).where(School.is_demo.is_(True))))
    today = local_today()
    existing = set(db.session.scalars(select(Child.id_number).where(Child.id_number.is_not(None))))
    added = 0
    for i in range(count):
        spec = demo_child(i, villages, schools, today)
        if spec["values"]["id_number"] in existing:
            continue
        child = create_child(spec["values"], spec["categories"], spec["family"], actor=None, source="演示数据")
        existing.add(child.id_number)
        for on, who, method in spec["contacts"]:
            add_parent_contact(child, on, who, method, actor=None)
        if spec["benefit"]:
            add_benefit(child, spec["benefit"], today - timedelta(days=200), Decimal(spec["rng_amount"]), "每月",
                        source="县民政局", actor=None)
        added += 1
        if added % 500 == 0:
            db.session.flush()
    return added


def seed(options: dict) -> dict[str, int]:
    """The area's demo seeder (see core/areas.py)."""
    return {"儿童": seed_demo_children(options["children"])}
