"""The format checks of projects/identifiers.py: None when well-formed, else a Chinese message."""

import random
import re

import pytest

from projects import identifiers
from tests.builders import CHIEF_SUPERVISOR_ID, OWNER_CREDIT_CODE, PROJECT_MANAGER_ID, credit_code

CJK = re.compile(r"[\u4e00-\u9fff]")


def is_chinese(message):
    return bool(message and CJK.search(message))


# ---------------------------------------------------------------- unified social credit code


@pytest.mark.parametrize(
    "value",
    [
        OWNER_CREDIT_CODE,
        "91110000600037341L",  # python-stdnum's documented example
        credit_code("91500103MA0000001"),
        credit_code("52500000MJ1234567"),
    ],
)
def test_it_accepts_a_credit_code_with_a_correct_check_character(value):
    assert identifiers.credit_code_problem(value) is None


def wrong_check_character(code):
    return code[:-1] + ("0" if code[-1] != "0" else "1")


@pytest.mark.parametrize(
    "value",
    [
        wrong_check_character(OWNER_CREDIT_CODE),
        OWNER_CREDIT_CODE[:-1],  # 17 characters
        OWNER_CREDIT_CODE + "1",  # 19 characters
        "A1110000600037341L",  # the first 8 must be digits
        "91110000I00037341L",  # I is not in the code's alphabet
        OWNER_CREDIT_CODE.lower(),  # stored and compared as printed: upper case only
        OWNER_CREDIT_CODE[:8] + " " + OWNER_CREDIT_CODE[8:],  # no separators
        "91５00103MB00000013",  # a full-width digit
    ],
)
def test_it_refuses_a_malformed_credit_code_with_a_chinese_message(value):
    problem = identifiers.credit_code_problem(value)
    assert problem is not None
    assert "统一社会信用代码" in problem and is_chinese(problem)


def test_it_asks_for_a_missing_credit_code():
    assert identifiers.credit_code_problem("") == "请填写统一社会信用代码。"


# ---------------------------------------------------------------- resident identity number


def gb11643_check_character(first_17: str) -> str:
    """The check character computed here from the standard's formula, independently of the code under test:
    weights 2^(17-i) mod 11, check = (12 - sum mod 11) mod 11, 10 written as X."""
    total = sum(int(digit) * (2 ** (17 - i) % 11) for i, digit in enumerate(first_17))
    check = (12 - total % 11) % 11
    return "X" if check == 10 else str(check)


def test_the_oracle_agrees_with_published_examples():
    assert gb11643_check_character("11010519491231002") == "X"
    assert gb11643_check_character("50022219850815321") == "3"


@pytest.mark.parametrize(
    "value",
    [
        PROJECT_MANAGER_ID,
        CHIEF_SUPERVISOR_ID,
        "11010519491231002X",
        # Chongqing 500xxx numbers of people born before 1997, when those area codes did not exist yet: the area
        # code is where the number was issued, not a birthplace (docs/rules.md, LEGAL-3).
        "500222198508153213",  # 綦江, born 1985
        "50010319800101" + "123" + gb11643_check_character("50010319800101123"),  # 渝中, born 1980
        "50011219600229" + "001" + gb11643_check_character("50011219600229001"),  # leap day 1960
        "81000019900101" + "002" + gb11643_check_character("81000019900101002"),  # Hong Kong residence permit
    ],
)
def test_it_accepts_an_id_number_with_a_real_birth_date_and_a_correct_check_character(value):
    assert identifiers.id_number_problem(value) is None


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("500222198508153214", "校验码错误"),  # wrong check character
        ("50022219850815321x", "格式错误"),  # lower-case x
        ("50022219850815321", "格式错误"),  # 17 characters
        ("5002221985081532134", "格式错误"),  # 19 characters
        ("50022219850815321３", "格式错误"),  # a full-width digit
        ("50022219851332" + "123" + gb11643_check_character("50022219851332123"), "出生日期"),  # month 13
        (
            "50022219610229" + "123" + gb11643_check_character("50022219610229123"),
            "出生日期",
        ),  # 1961 not leap
        ("50022218890101" + "123" + gb11643_check_character("50022218890101123"), "出生日期"),  # before 1900
        (
            "50022220990101" + "123" + gb11643_check_character("50022220990101123"),
            "出生日期",
        ),  # in the future
        ("99022219850815" + "321" + gb11643_check_character("99022219850815321"), "省级行政区划代码"),
        ("00022219850815" + "321" + gb11643_check_character("00022219850815321"), "省级行政区划代码"),
    ],
)
def test_it_refuses_an_invalid_id_number_saying_which_part_is_wrong(value, says):
    problem = identifiers.id_number_problem(value)
    assert problem is not None and "身份证号码" in problem and says in problem


def test_it_asks_for_a_missing_id_number():
    assert identifiers.id_number_problem("") == "请填写身份证号码。"


# ---------------------------------------------------------------- divisions and project numbers


@pytest.mark.parametrize(
    "code,expected",
    [
        ("500103", True),
        ("500235", True),
        ("500101", True),
        ("510103", False),
        ("110101", False),
        ("50010", False),
        ("5001O3", False),
    ],
)
def test_it_knows_chongqing_division_codes(code, expected):
    assert identifiers.is_chongqing_division(code) is expected


def test_it_accepts_a_16_digit_project_number():
    assert identifiers.project_number_problem("5001032106180001") is None
    assert identifiers.project_number_problem("5002351612310123") is None


@pytest.mark.parametrize(
    "value,says",
    [
        ("500103210618001", "16位"),  # 15 digits
        ("50010321061800011", "16位"),  # 17 digits
        ("500103210618000A", "16位"),
        ("500103210618001\n", "16位"),  # a trailing newline is not a digit
        ("1101012106180001", "前6位"),  # Beijing
        ("5001032113180001", "第7至12位"),  # month 13
        ("5001032102300001", "第7至12位"),  # 30 February
        ("500103２１０６１８0001", "第7至12位"),  # a date in full-width digits: not yyMMdd
    ],
)
def test_it_refuses_a_malformed_project_number(value, says):
    problem = identifiers.project_number_problem(value)
    assert problem is not None and says in problem


# ---------------------------------------------------------------- construction permit numbers


def test_it_accepts_an_18_digit_permit_number():
    assert identifiers.permit_number_problem("500103201607010101") is None


@pytest.mark.parametrize("value", ["[2012]施[渝中]建字0072号", "渝建施〔2010〕第0123号", "2013-0072"])
def test_it_accepts_an_old_local_permit_number_with_a_warning(value):
    severity, message = identifiers.permit_number_problem(value)
    assert severity == "warning"
    assert "旧版地方格式" in message and value in message


@pytest.mark.parametrize(
    "value,says",
    [
        ("500103201613010101", "第7至14位"),  # month 13
        ("500103201602300101", "第7至14位"),  # 30 February
        ("500103２０２１０６１８0101", "第7至14位"),  # a date in full-width digits: not yyyyMMdd
        ("110101201607010101", "前6位"),  # not Chongqing
        ("50010320160701010", "不是18位"),  # 17 digits
        ("5001032016070101011", "不是18位"),  # 19 digits
        ("500103201607010101\n", "首尾不能有空格"),
        (" 500103201607010101", "首尾不能有空格"),
        ("5" * 51, "不能超过50个字符"),
        ("", "请填写"),
    ],
)
def test_it_refuses_a_permit_number_that_cannot_be_one(value, says):
    severity, message = identifiers.permit_number_problem(value)
    assert severity == "error"
    assert says in message


# ---------------------------------------------------------------- other document numbers


def test_it_accepts_a_free_text_document_number_up_to_50_characters():
    assert identifiers.document_number_problem("渝建竣备〔2017〕第0123号", "竣工验收备案编号") is None
    assert identifiers.document_number_problem("A" * 50, "合同备案编号") is None


@pytest.mark.parametrize(
    "value,says",
    [
        ("", "请填写合同备案编号"),
        ("   ", "请填写合同备案编号"),
        ("A" * 51, "不能超过50个字符"),
        (" HT-001", "首尾不能有空格"),
        ("HT-001\t", "首尾不能有空格"),
        ("HT\x00001", "控制字符"),
    ],
)
def test_it_refuses_a_malformed_document_number(value, says):
    problem = identifiers.document_number_problem(value, "合同备案编号")
    assert problem is not None and says in problem


# ---------------------------------------------------------------- plain text


@pytest.mark.parametrize(
    "value",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<IMG SRC=x OnError=alert(1)>",
        "< svg onload=alert(1)>",
        '" onmouseover="alert(1)',
        "javascript:alert(1)",
        "java\tscript:alert(1)",  # a browser drops the tab inside a scheme
        "java\nscript:alert(1)",
        "JaVa Script:alert(1)",
        "</textarea><b>",
        "<!-- comment -->",
    ],
)
def test_it_refuses_markup_in_plain_text(value):
    assert identifiers.markup_problem(value) == "不能包含HTML标签或脚本代码，请输入纯文本。"


def test_it_refuses_control_characters_in_plain_text():
    assert identifiers.markup_problem("渝中区\x07") == "不能包含控制字符。"


@pytest.mark.parametrize(
    "character",
    [
        "\u202e",
        "\u202a",
        "\u200b",
        "\u200d",
        "\u200f",
        "\u2066",
        "\u2069",
        "\u061c",
        "\ufeff",
        "\u2060",
        "\u2028",
    ],
)
def test_it_refuses_invisible_format_characters_that_disguise_a_name(character):
    # "示范建设工程有限公司" displayed reversed in the console, or two names that look the same but differ.
    value = f"重庆{character}示范建设工程有限公司"
    assert (
        identifiers.markup_problem(value)
        == "不能包含不可见的格式字符（如从右向左标记、零宽空格），请直接输入文字。"
    )
    assert "不可见的格式字符" in identifiers.document_number_problem(f"渝建{character}001号", "合同备案编号")
    assert identifiers.permit_number_problem(f"[2012]施{character}[渝中]建字0072号")[0] == "error"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "渝中区示范综合楼工程",
        "重庆市渝中区解放碑街道民族路1号（A栋）",
        "地上18层，地下2层；建筑面积8888.00平方米",
        "面积 < 10000 平方米，造价 > 1000万元",  # comparison signs are not tags
        "第一行\n第二行\r\n\t缩进",  # line breaks and tabs of a text area
        "《建筑工程施工质量验收统一标准》GB 50300-2013",
    ],
)
def test_it_accepts_plain_chinese_text(value):
    assert identifiers.markup_problem(value) is None


@pytest.mark.parametrize(
    "value, expected",
    [
        ("1", 1),
        ("42", 42),
        (42, 42),
        (str(2**63 - 1), 2**63 - 1),
        (str(2**63), None),
        ("99999999999999999999999", None),
        ("0", None),
        ("-1", None),
        ("²", None),  # str.isdigit() says yes, int() says no
        ("١٢", None),  # Arabic-Indic digits: int() would take them
        ("１２", None),  # full-width digits: int() would take them
        ("12\n", None),
        (" 12", None),
        ("", None),
    ],
)
def test_a_row_id_is_ascii_digits_within_the_databases_integer_range(value, expected):
    assert identifiers.parse_row_id(value) == expected


def test_the_credit_code_checks_cache_keeps_no_value_longer_than_a_code():
    # A form runs its validators even on a value over the field's max_length: megabytes a post must not be kept.
    from projects.identifiers import _credit_code_problem, credit_code_problem

    before = _credit_code_problem.cache_info().currsize
    assert credit_code_problem("9" * 100_000) is not None
    assert _credit_code_problem.cache_info().currsize == before
    assert credit_code_problem("91500000MA5U0A1X4P") == credit_code_problem("91500000MA5U0A1X4P")


def test_it_reads_a_date_of_digits_as_strptime_does():
    cases = [
        "19900101",
        "19900230",
        "19901301",
        "19900001",
        "19900100",
        "00000101",
        "20240229",
        "20230229",
        "19991231",
        "99991231",
        "１９９０0101",
        "1990０１0１",
        "19900١01",
        "２１０６１８",
        "210６18",
        "٢١٠٦١٨",
        "900101",
        "680101",
        "690101",
        "000229",
        "010229",
        "991301",
        "1990011",
        "199001011",
        "",
        "abcdefgh",
        "1990 101",
    ]
    generator = random.Random(11643)
    cases += [f"{generator.randrange(10**8):08d}" for _n in range(3000)]
    cases += [f"{generator.randrange(10**6):06d}" for _n in range(3000)]
    for text in cases:
        for fmt in ("%Y%m%d", "%y%m%d"):
            assert identifiers._date_from(text, fmt) == identifiers._strptime_date(text, fmt), (text, fmt)
