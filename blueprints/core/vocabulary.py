"""The app's vocabulary: every code stored in the database with its Chinese label, and the rules
that are named once (the age limits, age on a day, which statuses count as current).

Data only: the core imports no area, every area imports from here, so a label or a limit is changed
in one place. Templates show a code with `{{ code|label('gender') }}`."""
from __future__ import annotations

from datetime import date

# --- children (plan §1 categories, §5 §6 guardianship and contact, §9 state guardianship, §11 benefits)
GENDERS = {"male": "男", "female": "女"}
CATEGORIES = {
    "left_behind": "留守儿童",
    "poverty": "困境儿童（家庭贫困）",
    "disability": "困境儿童（自身残疾）",
    "guardianship": "困境儿童（监护缺失或不当）",
    "orphan": "孤儿",
    "unsupported": "事实无人抚养儿童",
}
CATEGORY_SHORT = {
    "left_behind": "留守",
    "poverty": "困境·贫困",
    "disability": "困境·残疾",
    "guardianship": "困境·监护",
    "orphan": "孤儿",
    "unsupported": "事实无人抚养",
}
ATTENTION_LEVELS = {"key": "重点关注", "general": "一般"}
STATUSES = {"registered": "已登记", "active": "在册", "exited": "已退出"}
EXIT_REASONS = {
    "age_16": "年满16周岁（留守）",
    "age_18": "年满18周岁",
    "parents_returned": "父母返乡",
    "moved_away": "迁出本镇",
    "died": "死亡",
    "no_longer_qualifies": "不再符合条件",
    "other": "其他",
}
STATE_GUARDIANSHIP = {"none": "无", "long_term": "长期监护", "temporary": "临时监护"}
GUARDIANSHIP_CAPACITY = {"full": "有监护能力", "limited": "监护能力不足", "none": "无监护能力"}
CONTACT_METHODS = {"phone": "电话", "video": "视频", "visit_home": "回家探望"}
BENEFIT_KINDS = {
    "basic_living": "基本生活保障",
    "medical": "医疗救助",
    "rehabilitation": "康复救助",
    "education": "教育资助",
    "housing": "住房保障",
    "charity": "慈善帮扶",
}

# --- visits (§10 kinds, §17 home-safety hazards, §2 mental state, needs)
VISIT_KINDS = {"home": "入户走访", "phone": "电话访问", "school": "在校走访", "other": "其他"}
HAZARDS = {
    "hazard_water": "用水",
    "hazard_electric": "用电",
    "hazard_gas": "燃气",
    "hazard_fire": "用火",
    "hazard_waters": "附近有危险水域",
    "hazard_other": "其他隐患",
}
MENTAL_STATES = {"good": "良好", "fair": "一般", "concern": "需要关注"}
# One list of needs (plan §10 §14 §15 §23), shared by visits, pairings, schools and care plans.
NEED_CATEGORIES = {
    "living": "基本生活",
    "medical": "医疗康复",
    "education": "教育帮扶",
    "psychological": "心理疏导",
    "guardianship": "监护指导",
    "safety": "安全防护",
    "legal": "法律援助",
    "employment": "父母就业",
    "other": "其他",
}
# Codes that phones may still send, from before the one list (an offline record saved weeks ago):
# accepted and stored as the code they became (migration 0011_care moved the recorded rows).
NEED_ALIASES = {"assistance": "living"}

# --- places and people
SCHOOL_KINDS = {
    "kindergarten": "幼儿园",
    "primary": "小学",
    "middle": "初级中学",
    "nine_year": "九年一贯制学校",
}
# --- volunteers and pairings (plan §13 programmes, §21 §22 service sites and social organisations)
VOLUNTEER_KINDS = {
    "youth": "青年志愿者",
    "caring_mother": "爱心妈妈",
    "teacher": "教师志愿者",
    "social_org": "社会组织成员",
}
ORGANISATION_KINDS = {"social_org": "社会组织", "service_site": "服务站点", "unit": "机关企事业单位"}
# What a volunteer can offer; SKILL_NEEDS says which of a child's needs (NEED_CATEGORIES) each meets.
SKILLS = {
    "tutoring": "课业辅导",
    "reading": "阅读陪伴",
    "psychological": "心理陪伴",
    "recreation": "文体活动",
    "life_care": "生活照料",
    "safety": "安全教育",
    "medical": "医疗康复知识",
}
SKILL_NEEDS = {
    "tutoring": {"education"},
    "reading": {"education"},
    "psychological": {"psychological"},
    "recreation": {"psychological"},
    "life_care": {"living"},
    "safety": {"safety"},
    "medical": {"medical"},
}
PROGRAMMES = {
    "qianshou": "牵手关爱行动",
    "caring_mother": "爱心妈妈结对",
    "hope_room": "希望小屋",
    "red_scarf": "红领巾学堂",
    "other": "其他",
}
ACTIVITY_KINDS = {
    "companionship": "陪伴",
    "tutoring": "辅导",
    "life_help": "生活帮助",
    "comfort": "情感抚慰",
    "visit": "上门",
    "phone": "电话",
}
PAIRING_END_REASONS = {
    "goals_met": "帮扶目标已实现",
    "child_exited": "儿童退出名册",
    "moved": "儿童或志愿者迁出",
    "volunteer_left": "志愿者不再参加",
    "programme_ended": "项目结束",
    "other": "其他",
}

# --- schools (plan §12 enrolment, dropout and responsible carers, §6 contact with parents, §2
# psychological screening, §17 school home visits)
# What a school account does at its school (users.school_duty): the coordinator (关爱工作负责人)
# names carers and sets the others' duties; a class teacher keeps in touch with her pupils'
# families; the mental-health teacher alone of the school sees the screenings.
SCHOOL_DUTIES = {"coordinator": "关爱工作负责人", "head_teacher": "班主任", "mental_health": "心理老师"}
ENROLMENT_STATES = {
    "enrolled": "在读",
    "suspended": "休学",
    "dropped_out": "辍学",
    "transferred": "转学",
    "graduated": "毕业",
    "not_enrolled": "未入学",
}
DROPOUT_REASONS = {
    "poverty": "经济困难",
    "weariness": "厌学",
    "work": "外出务工",
    "illness": "疾病",
    "no_guardian": "监护缺失",
    "other": "其他",
}
DROPOUT_STEPS = {"home_visit": "家访", "persuade": "劝返", "department": "联系部门"}
CONTACT_WITH = {"father": "父亲", "mother": "母亲", "caregiver": "委托照护人", "guardian": "监护人", "other": "其他"}
SCHOOL_CONTACT_METHODS = {"phone": "电话", "video": "视频", "meeting": "家长会", "home_visit": "家访"}
CONTACT_TOPICS = {"study": "学习", "life": "生活", "health": "身心健康", "safety": "安全"}
SCREENING_BANDS = {"normal": "正常", "watch": "关注", "high": "高风险"}
SCREENING_FOLLOWUPS = {"talk": "谈心", "referral": "转介心理咨询", "notify_guardian": "告知监护人"}
HOLIDAY_CARE_KINDS = {"weekend": "周末", "winter": "寒假", "summer": "暑假", "other": "其他假期"}

# --- care that follows up (精准帮扶: plan §5 §8 §10 §14 §15 §23, 保障一)
# Where a need in a child's care plan came from (each source links back to its record).
NEED_SOURCES = {
    "visit": "走访",
    "school": "学校记录",
    "assessment": "监护评估",
    "rule": "预警规则",
    "conference": "个案会商",
    "manual": "直接登记",
}
NEED_STATES = {"open": "待解决", "met": "已解决", "closed": "不再需要"}
MEASURE_STATES = {"open": "待办", "in_progress": "办理中", "done": "已完成", "closed": "已终止"}
# withdrawn: the child left the roll while it was open (care/exits.py)
REFERRAL_STATES = {"sent": "待接收", "accepted": "办理中", "done": "已办结", "declined": "已退回", "withdrawn": "已撤回"}
# A visit's review (visits.review_state): None is not yet reviewed.
REVIEW_STATES = {"ok": "已评阅", "returned": "已退回待答复", "answered": "已答复待复核"}
ASSESSMENT_LEVELS = {"capable": "有能力", "partial": "部分缺失", "severe": "严重缺失"}
# An item's answer in a guardianship assessment: how far the family provides it.
ASSESSMENT_ANSWERS = {2: "具备", 1: "部分具备", 0: "缺失"}
INTERVENTIONS = {
    "family_education": "家庭教育指导",
    "supervision_order": "申请督促监护令",
    "temporary_guardianship": "临时监护",
}
NOTICE_KINDS = {
    "referral_received": "收到转介",
    "referral_returned": "转介办结或退回",
    "referral_withdrawn": "转介撤回",
    "measure_due": "帮扶措施即将到期",
    "measure_overdue": "帮扶措施已逾期",
    "visit_returned": "走访被退回",
    "urgent_flag": "紧急情况",
}

# label(code, name) looks the code up here; the names are what templates pass to the filter.
VOCABULARIES: dict[str, dict[str, str]] = {
    "gender": GENDERS,
    "category": CATEGORIES,
    "category_short": CATEGORY_SHORT,
    "attention_level": ATTENTION_LEVELS,
    "status": STATUSES,
    "exit_reason": EXIT_REASONS,
    "state_guardianship": STATE_GUARDIANSHIP,
    "guardianship_capacity": GUARDIANSHIP_CAPACITY,
    "contact_method": CONTACT_METHODS,
    "benefit_kind": BENEFIT_KINDS,
    "visit_kind": VISIT_KINDS,
    "hazard": HAZARDS,
    "mental_state": MENTAL_STATES,
    "need_category": NEED_CATEGORIES,
    "school_kind": SCHOOL_KINDS,
    "volunteer_kind": VOLUNTEER_KINDS,
    "organisation_kind": ORGANISATION_KINDS,
    "skill": SKILLS,
    "programme": PROGRAMMES,
    "activity_kind": ACTIVITY_KINDS,
    "pairing_end_reason": PAIRING_END_REASONS,
    "school_duty": SCHOOL_DUTIES,
    "enrolment_state": ENROLMENT_STATES,
    "dropout_reason": DROPOUT_REASONS,
    "dropout_step": DROPOUT_STEPS,
    "contact_with": CONTACT_WITH,
    "school_contact_method": SCHOOL_CONTACT_METHODS,
    "contact_topic": CONTACT_TOPICS,
    "screening_band": SCREENING_BANDS,
    "screening_followup": SCREENING_FOLLOWUPS,
    "holiday_care_kind": HOLIDAY_CARE_KINDS,
    "need_source": NEED_SOURCES,
    "need_state": NEED_STATES,
    "measure_state": MEASURE_STATES,
    "referral_state": REFERRAL_STATES,
    "review_state": REVIEW_STATES,
    "assessment_level": ASSESSMENT_LEVELS,
    "intervention": INTERVENTIONS,
    "notice_kind": NOTICE_KINDS,
}

# A child on the roll: registered (not yet confirmed) or active. Exited children keep their record.
CURRENT_STATUSES = ("registered", "active")

# 国发〔2016〕13号: a left-behind child is under 16; the care covers children under 18.
LEFT_BEHIND_AGE = 16
CHILD_AGE = 18


def label(code: str | None, vocabulary: str) -> str:
    """The Chinese label of a code; an unknown code shows as itself (nothing is hidden), None as ''."""
    if code is None:
        return ""
    return VOCABULARIES[vocabulary].get(code, code)


def age_on(birth_date: date, day: date) -> int:
    """Full years on `day`: the birthday itself counts (born 29 February: 1 March in other years)."""
    years = day.year - birth_date.year
    return years - ((day.month, day.day) < (birth_date.month, birth_date.day))


def birthday_at(birth: date, years: int) -> date:
    """The day a child turns `years`; born on 29 February: 28 February in other years."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # born on 29 February
        return birth.replace(year=birth.year + years, day=28)


def register_template_filters(app) -> None:
    app.jinja_env.filters["label"] = label
