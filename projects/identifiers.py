"""Format checks of identifiers and document numbers, one function each.

Each returns None when the value is well-formed, or a Chinese message saying what is wrong.
The rule engine (rules.py) and the model validators (validators.py) both call these: one check, one place.
"""

import datetime
import functools
import re

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

CHONGQING_DIVISION_PREFIXES = ("5001", "5002")
DOCUMENT_NUMBER_MAX_LENGTH = 50
_DIGITS = re.compile(r"\d+")  # used with fullmatch: "^…$" would let a trailing newline in
# A browser drops tabs, line breaks and other whitespace inside a URL scheme: "java<TAB>script:" runs as script.
_MARKUP = re.compile(
    r"<\s*/?\s*[a-zA-Z!][^>]*>|j\s*a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t\s*:|\bon\w+\s*=", re.IGNORECASE
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Invisible format characters that change how a name displays without being seen: bidirectional overrides,
# embeddings and isolates (U+202A–U+202E, U+2066–U+2069), marks (U+200E, U+200F, U+061C), zero-width characters
# (U+200B–U+200D, U+2060, U+FEFF) and line/paragraph separators (U+2028, U+2029).
_INVISIBLE_FORMAT = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\u061c\ufeff\u2028\u2029]")


CREDIT_CODE_LENGTH = 18  # GB 32100-2015


# Cached: a pure function of the code, and the same codes come back on every row of an import and in every stage of
# a record (the enterprise's own, the owner's, the agencies'), each checked by the field's validator and the rules.
# Only values of a code's length: a form runs its validators even on a value over the field's max_length, and the
# cache must not keep megabytes a post.
def credit_code_problem(value: str) -> str | None:
    """Unified social credit code, GB 32100-2015 (check character by python-stdnum)."""
    if isinstance(value, str) and len(value) <= CREDIT_CODE_LENGTH:
        return _credit_code_problem(value)
    return _credit_code_problem.__wrapped__(value)


@functools.lru_cache(maxsize=4096)
def _credit_code_problem(value: str) -> str | None:
    if not value:
        return "请填写统一社会信用代码。"
    try:
        # python-stdnum accepts lower case and separators; the code is stored and compared as printed on the
        # licence (LINK-1, unique per enterprise), so only that form is valid.
        valid = uscc.validate(value) == value
    except StdnumError:
        valid = False
    if not valid:
        return f"统一社会信用代码“{value}”无效：应为18位数字或大写字母，且校验码须符合GB 32100-2015。"
    return None


# The first two digits of a resident ID number: the provinces of GB/T 2260, and 81/82/83 for the residence
# permits of Hong Kong, Macao and Taiwan residents (same format, same check character).
ID_PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
# A document other than a resident ID (passport, officer's card …): no public check digit; the national tables hold
# varchar(30). Used with fullmatch.
OTHER_DOCUMENT_NUMBER = re.compile(r"[A-Za-z0-9()\-]{4,30}")
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")  # ASCII digits only: \d also matches full-width ones


def id_number_problem(value: str) -> str | None:
    """Resident identity number (GB 11643): 18 characters, a real birth date, the check character.

    The area code is where the number was first issued, not where its holder was born, so it is never checked
    against the birth year (docs/rules.md, "ID numbers"): Chongqing's 500xxx codes were issued to people born
    in every year. Only the province (the first two digits) must be a real one."""
    if not value:
        return "请填写身份证号码。"
    if not _ID_NUMBER.fullmatch(value):
        return "身份证号码格式错误：应为18位，前17位为数字，最后一位为数字或大写字母X。"
    if value[:2] not in ID_PROVINCE_CODES:
        return f"身份证号码前两位“{value[:2]}”不是有效的省级行政区划代码。"
    birth = _date_from(value[6:14], "%Y%m%d")
    if birth is None or not (datetime.date(1900, 1, 1) <= birth <= datetime.date.today()):
        return f"身份证号码第7至14位“{value[6:14]}”不是有效的出生日期。"
    if ric.calc_check_digit(value) != value[-1]:
        return "身份证号码校验码错误：请核对最后一位（按GB 11643计算）。"
    return None


def is_chongqing_division(code: str) -> bool:
    return len(code) == 6 and code.isdigit() and code.startswith(CHONGQING_DIVISION_PREFIXES)


def _date_from(text: str, fmt: str) -> datetime.date | None:
    """The date of `text`, digits as `fmt` says ("%Y%m%d" or "%y%m%d"), or None: what strptime gives for the
    digits these checks pass it (a two-digit year 69–99 in the 1900s, 00–68 in the 2000s), without its regular
    expression and locale look-ups (an ID number is checked in every stage of every imported row). Only ASCII digits
    take the short way: strptime reads a year in any Unicode digits but a month and a day only in ASCII ones."""
    year_digits = 4 if fmt == "%Y%m%d" else 2
    if len(text) != year_digits + 4 or not (text.isascii() and text.isdigit()):
        return _strptime_date(text, fmt)
    year = int(text[:year_digits])
    if year_digits == 2:
        year += 1900 if year >= 69 else 2000
    try:
        return datetime.date(year, int(text[-4:-2]), int(text[-2:]))
    except ValueError:
        return None


def _strptime_date(text: str, fmt: str) -> datetime.date | None:
    try:
        return datetime.datetime.strptime(text, fmt).date()
    except ValueError:
        return None


def project_number_problem(value: str) -> str | None:
    """16 digits: 6-digit county code + yyMMdd + 4-digit serial (e.g. 5001032106180001)."""
    if not (len(value) == 16 and _DIGITS.fullmatch(value)):
        return f"项目编号“{value}”格式错误：应为16位数字（6位区县代码+6位日期yyMMdd+4位流水号）。"
    if not is_chongqing_division(value[:6]):
        return f"项目编号“{value}”的前6位不是重庆市的区县行政区划代码（5001xx或5002xx）。"
    if _date_from(value[6:12], "%y%m%d") is None:
        return f"项目编号“{value}”的第7至12位不是有效日期（yyMMdd）。"
    return None


PERMIT_NUMBER_18 = re.compile(r"\d{18}")


def permit_number_problem(value: str) -> tuple[str, str] | None:
    """Construction permit number. Since 2014: 18 digits = division + yyyyMMdd + serial(2) + works class(2).

    Returns None when it is a valid 18-digit number, ("warning", message) for an older local format that a
    backfill of old projects must accept, ("error", message) when it cannot be a permit number at all.
    """
    if not value:
        return ("error", "请填写施工许可证编号。")
    if len(value) > DOCUMENT_NUMBER_MAX_LENGTH:
        return ("error", f"施工许可证编号不能超过{DOCUMENT_NUMBER_MAX_LENGTH}个字符。")
    if value != value.strip() or _CONTROL.search(value) or _INVISIBLE_FORMAT.search(value):
        return ("error", "施工许可证编号首尾不能有空格，且不能含控制字符或不可见的格式字符。")
    if PERMIT_NUMBER_18.fullmatch(value):
        if not is_chongqing_division(value[:6]):
            return ("error", f"施工许可证编号“{value}”的前6位不是重庆市的行政区划代码。")
        if _date_from(value[6:14], "%Y%m%d") is None:
            return ("error", f"施工许可证编号“{value}”的第7至14位不是有效日期（yyyyMMdd）。")
        return None
    if _DIGITS.fullmatch(value):
        return ("error", f"施工许可证编号“{value}”为纯数字但不是18位：2014年起的编号为18位数字。")
    return (
        "warning",
        f"施工许可证编号“{value}”不是2014年起的18位格式，按旧版地方格式接受，请核对证书原件。",
    )


def document_number_problem(value: str, label: str) -> str | None:
    """Award notice, contract filing, drawing review certificate, completion filing numbers: free text, ≤ 50."""
    if not value or not value.strip():
        return f"请填写{label}。"
    if len(value) > DOCUMENT_NUMBER_MAX_LENGTH:
        return f"{label}不能超过{DOCUMENT_NUMBER_MAX_LENGTH}个字符。"
    if value != value.strip() or _CONTROL.search(value) or _INVISIBLE_FORMAT.search(value):
        return f"{label}首尾不能有空格，且不能含控制字符或不可见的格式字符。"
    return None


def markup_problem(value: str) -> str | None:
    """Text fields take plain text only: HTML tags or script are refused, not silently stripped."""
    if value and _MARKUP.search(value):
        return "不能包含HTML标签或脚本代码，请输入纯文本。"
    if value and _CONTROL.search(value):
        return "不能包含控制字符。"
    if value and _INVISIBLE_FORMAT.search(value):
        return "不能包含不可见的格式字符（如从右向左标记、零宽空格），请直接输入文字。"
    return None


# Row ids are BigAutoField (settings.DEFAULT_AUTO_FIELD): 1 … 2**63 − 1 on every database.
ROW_ID_MAX = 2**63 - 1
_ROW_ID = re.compile(r"[0-9]{1,19}")  # ASCII only: str.isdigit() also accepts "²", which int() refuses


def parse_row_id(value) -> int | None:
    """A row id from a URL or a query parameter, or None when it is not one: ASCII digits within the database's
    integer range. A filter or lookup given None shows nothing (or a 404), never a server error."""
    text = str(value)
    if not _ROW_ID.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= ROW_ID_MAX else None


# ---------------------------------------------------------------- joint-venture members (联合体成员)


def parse_joint_venture_members(text: str) -> list[dict]:
    """Lines of "单位名称 统一社会信用代码" as [{"name", "credit_code"}]: the code is the line's last word (names
    may hold spaces) when it looks like one (letters and digits, six or more: a short or wrong code is kept, so
    the check names it); otherwise the line is a name whose code is missing."""
    members = []
    for line in (text or "").replace("；", "\n").replace(";", "\n").splitlines():
        line = line.replace("\u3000", " ").strip()
        if not line:
            continue
        name, _, last = line.replace("，", " ").replace(",", " ").replace("\t", " ").rpartition(" ")
        looks_like_a_code = (
            len(last) >= 6 and last.isascii() and last.isalnum() and any(c.isdigit() for c in last)
        )
        if name.strip() and looks_like_a_code:
            members.append({"name": name.strip(), "credit_code": last.upper()})
        else:
            members.append({"name": line, "credit_code": ""})
    return members


def format_joint_venture_members(members) -> str:
    """The members as the clerk types them: one "单位名称 统一社会信用代码" per line."""
    return "\n".join(f"{m.get('name', '')} {m.get('credit_code', '')}".strip() for m in members or [])


def joint_venture_member_problems(members) -> list[str]:
    """Each member: a name, and a credit code with a correct check character (GB 32100-2015)."""
    if isinstance(
        members, str
    ):  # a value still in its typed form (a correction's text, a snapshot of before)
        members = parse_joint_venture_members(members)
    problems = []
    for member in members or []:
        if not isinstance(member, dict):
            continue
        name, code = member.get("name", ""), member.get("credit_code", "")
        if not code:
            problems.append(f"联合体成员“{name}”缺少统一社会信用代码，请按“单位名称 统一社会信用代码”填写。")
            continue
        problem = credit_code_problem(code)
        if problem:
            problems.append(f"联合体成员“{name}”的统一社会信用代码“{code}”：{problem}")
    return problems


# ---------------------------------------------------------------- designers (勘察设计人员, TBProjectDesignEconUserInfo)

# The national code lists for 注册类型及等级 and 承担角色 were not found (docs/national-standard.md, "Not found"): the
# portal keeps these names and delivers them as written (docs/design-projects.md).
DOCUMENT_TYPES = {
    "身份证": "1",
    "军官证": "2",
    "护照": "3",
    "台湾居民身份证": "4",
    "香港永久居民身份证": "5",
    "警官证": "6",
    "其他": "7",
}
REGISTRATION_TYPES = (
    "注册建筑师",
    "注册结构工程师",
    "注册土木工程师（岩土）",
    "注册土木工程师（道路工程）",
    "注册公用设备工程师",
    "注册电气工程师",
    "注册化工工程师",
    "无",
)
REGISTRATION_LEVELS = ("一级", "二级", "无")
DESIGNER_ROLES = (
    "项目负责人",
    "勘察负责人",
    "专业负责人",
    "设计人",
    "校对人",
    "审核人",
    "审定人",
)
DESIGNER_KEYS = ("name", "id_type", "id_number", "registration_type", "registration_level", "role")
DESIGNER_FORMAT = "姓名 证件类型 证件号码 注册类型 注册等级 承担角色"


def parse_designers(text: str) -> list[dict]:
    """Lines of "姓名 证件类型 证件号码 注册类型 注册等级 承担角色" as dicts of DESIGNER_KEYS. A line with another
    number of words is kept with what it has, so the check names it instead of losing it."""
    designers = []
    for line in (text or "").replace("；", "\n").replace(";", "\n").splitlines():
        words = line.replace("\u3000", " ").replace("，", " ").replace(",", " ").split()
        if not words:
            continue
        row = designer_of(dict(zip(DESIGNER_KEYS, words, strict=False)))
        if len(words) != len(DESIGNER_KEYS):
            row["malformed"] = line.strip()[:200]
        designers.append(row)
    return designers


def designer_of(values: dict) -> dict:
    """One designer as stored, from a typed line's words or a JSON object of DESIGNER_KEYS (the API): every key
    (a missing one blank, so the check names it), the document type as its code (its label accepted), the number
    in upper case. Values that are not text are left as given: the model's validator refuses them."""
    row = {key: values.get(key, "") for key in DESIGNER_KEYS}
    if isinstance(row["id_type"], str):
        row["id_type"] = DOCUMENT_TYPES.get(row["id_type"].strip(), row["id_type"].strip())
    if isinstance(row["id_number"], str):
        row["id_number"] = row["id_number"].strip().upper()
    return row


def format_designers(designers) -> str:
    """The designers as the clerk types them, one per line."""
    label_of_type = {code: label for label, code in DOCUMENT_TYPES.items()}
    lines = []
    for person in designers or []:
        if not isinstance(person, dict):
            continue
        if person.get("malformed"):
            lines.append(person["malformed"])
            continue
        values = [person.get(key, "") for key in DESIGNER_KEYS]
        values[1] = label_of_type.get(values[1], values[1])
        lines.append(" ".join(v for v in values if v))
    return "\n".join(lines)


def format_records(field_name: str, records) -> str:
    """A list-of-records field's value (联合体成员, 勘察设计人员) as the clerk types it, one record a line."""
    if field_name == "designers":
        return format_designers(records)
    return format_joint_venture_members(records)


def designer_problems(designers) -> list[str]:
    """What is wrong with each designer's line: its shape, its choices and its document number (a resident ID by
    GB 11643, another document by the national format)."""
    if isinstance(designers, str):
        designers = parse_designers(designers)
    problems = []
    for index, person in enumerate(designers or [], start=1):
        if not isinstance(person, dict):
            continue
        who = f"第{index}位勘察设计人员“{person.get('name', '')}”"
        if person.get("malformed"):
            problems.append(f"{who}：请按“{DESIGNER_FORMAT}”填写，用空格分隔，缺项写“无”。")
            continue
        problems.extend(f"{who}：{p}" for p in _designer_choice_problems(person))
        problem = _designer_document_problem(person)
        if problem:
            problems.append(f"{who}的证件号码“{person.get('id_number', '')}”：{problem}")
    return problems


def _designer_choice_problems(person) -> list[str]:
    problems = []
    if person.get("id_type") not in DOCUMENT_TYPES.values():
        problems.append(f"证件类型应为{'、'.join(DOCUMENT_TYPES)}之一。")
    if person.get("registration_type") not in REGISTRATION_TYPES:
        problems.append(f"注册类型应为{'、'.join(REGISTRATION_TYPES)}之一。")
    if person.get("registration_level") not in REGISTRATION_LEVELS:
        problems.append(f"注册等级应为{'、'.join(REGISTRATION_LEVELS)}之一。")
    if person.get("role") not in DESIGNER_ROLES:
        problems.append(f"承担角色应为{'、'.join(DESIGNER_ROLES)}之一。")
    return problems


def _designer_document_problem(person) -> str | None:
    number = person.get("id_number", "")
    if person.get("id_type") == DOCUMENT_TYPES["身份证"]:
        return id_number_problem(number)
    if person.get("id_type") in DOCUMENT_TYPES.values() and not OTHER_DOCUMENT_NUMBER.fullmatch(number):
        return "证件号码应为4至30位字母、数字或“-”“(”“)”。"
    return None
