"""The township's action plan (拳发〔2024〕16号): its 23 key tasks and the departments named for each.

Taken from ../shared/seed/quanpu-action-plan-2024.txt; departments are referred to by their stable
code (see DEPARTMENTS), so renaming a department does not detach it from its tasks.
"""
from __future__ import annotations

from dataclasses import dataclass

# (code, name) of the 13 departments the plan names, in the plan's order of first mention.
DEPARTMENTS: list[tuple[str, str]] = [
    ("civil_affairs", "镇民政组"),
    ("education", "镇教办"),
    ("police", "镇派出所"),
    ("justice", "镇司法所"),
    ("health", "镇卫健组"),
    ("disability", "镇残联"),
    ("women", "镇妇联"),
    ("youth", "镇团委"),
    ("publicity", "镇宣传"),
    ("culture", "镇文化办"),
    ("hr", "镇人社所"),
    ("emergency", "镇应急办"),
    ("market", "镇市场监管所"),
]


@dataclass(frozen=True)
class PlanTask:
    number: int
    action: str  # the 行动 the task belongs to
    title: str
    departments: tuple[str, ...]  # department codes


_A1, _A2, _A3, _A4, _A5 = (
    "精神素养提升行动",
    "监护提质行动",
    "精准帮扶行动",
    "安全防护行动",
    "固本强基行动",
)

PLAN_TASKS: list[PlanTask] = [
    PlanTask(1, _A1, "加强思想道德建设", ("publicity", "education", "civil_affairs", "youth", "women")),
    PlanTask(2, _A1, "加强心理健康关爱", ("education", "civil_affairs", "health", "youth")),
    PlanTask(3, _A1, "丰富精神文化生活", ("publicity", "education", "civil_affairs", "culture", "youth", "women")),
    PlanTask(4, _A1, "加强法治宣传教育", ("justice", "education", "police", "civil_affairs")),
    PlanTask(5, _A2, "强化监护职责落实", ("police", "civil_affairs", "health", "justice", "emergency")),
    PlanTask(6, _A2, "完善委托照护制度", ("civil_affairs", "education")),
    PlanTask(7, _A2, "强化家庭教育指导", ("police", "education", "women")),
    PlanTask(8, _A2, "加强监护干预工作", ("justice", "education", "police", "civil_affairs")),
    PlanTask(9, _A2, "强化政府兜底监护", ("civil_affairs",)),
    PlanTask(10, _A3, "开展摸底走访建档", ("civil_affairs", "education", "police", "justice", "health", "disability")),
    PlanTask(11, _A3, "强化救助保障服务", ("civil_affairs", "health", "disability")),
    PlanTask(12, _A3, "提升教育帮扶能力", ("education", "civil_affairs")),
    PlanTask(13, _A3, "丰富关爱服务活动", ("civil_affairs", "youth", "women")),
    PlanTask(14, _A3, "开展源头帮扶服务", ("civil_affairs", "education", "hr")),
    PlanTask(15, _A3, "加强司法救助帮扶", ("police", "justice")),
    PlanTask(16, _A4, "加强安全教育引导", ("education", "police", "civil_affairs", "women", "youth")),
    PlanTask(17, _A4, "加强安全风险防范", ("education", "police", "civil_affairs", "emergency")),
    PlanTask(18, _A4, "加强网络保护工作", ("publicity", "police")),
    PlanTask(19, _A4, "加强社会保护工作", ("education", "police", "civil_affairs", "justice", "market", "women")),
    PlanTask(20, _A5, "加强儿童主任队伍建设", ("civil_affairs",)),
    PlanTask(21, _A5, "加强基层站点建设", ("publicity", "education", "civil_affairs", "youth", "women")),
    PlanTask(22, _A5, "引导社会力量参与", ("publicity", "civil_affairs", "youth", "women")),
    PlanTask(23, _A5, "加强数字化建设", ("education", "police", "civil_affairs")),
]


def tasks_for_department(code: str) -> list[PlanTask]:
    return [task for task in PLAN_TASKS if code in task.departments]
