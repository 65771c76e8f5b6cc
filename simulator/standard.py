"""What a receiving platform checks in a record of the national standard (docs/national-api.md, "Checks").

Written from the receivers' rules (docs/national-standard.md), not from the portal's code: the simulator is the
other side. Each problem names the table, the field and the reason; any problem refuses the whole record (422).
"""

import re

TABLES = (
    "TBProjectInfo",
    "TBTenderInfo",
    "TBContractRecordManage",
    "TBProjectCensorInfo",
    "TBBuilderLicenceManage",
    "TBProjectFinishManage",
    "TBProjectDesignEconUserInfo",
)

REQUIRED = {
    "TBProjectInfo": [
        "PrjNum", "PrjName", "PrjTypeNum", "BuildCorpName", "BuildCorpCode", "ProvinceNum", "CityNum",
        "CountyNum", "PrjPropertyNum", "PrjFunctionNum", "BDate", "EDate",
    ],
    "TBTenderInfo": [
        "TenderNum", "PrjNum", "TenderClassNum", "TenderTypeNum", "TenderResultDate", "TenderMoney", "Area",
        "TenderCorpName", "TenderCorpCode",
    ],
    "TBContractRecordManage": [
        "RecordNum", "PrjNum", "ContractNum", "ContractTypeNum", "ContractMoney", "ContractDate",
        "PropietorCorpName", "PropietorCorpCode", "ContractorCorpName", "ContractorCorpCode",
    ],
    "TBProjectCensorInfo": ["CensorNum", "PrjNum", "CensorCorpName", "CensorCorpCode", "CensorEDate"],
    "TBBuilderLicenceManage": [
        "BuilderLicenceNum", "PrjNum", "Area", "IssueCertDate", "EconCorpName", "EconCorpCode", "DesignCorpName",
        "DesignCorpCode", "ConsCorpName", "ConsCorpCode", "SuperCorpName", "SuperCorpCode", "ConstructorName",
        "CIDCardTypeNum", "ConstructorIDCard", "SupervisionName", "SIDCardTypeNum", "SupervisionIDCard",
    ],
    "TBProjectFinishManage": ["PrjFinishNum", "PrjNum", "FactCost", "FactArea", "BDate", "EDate"],
    "TBProjectDesignEconUserInfo": [
        "PrjNum", "CensorNum", "CorpName", "UserName", "IDCardTypeNum", "IDCard", "PrjDuty",
    ],
}  # fmt: skip
# A design-only record (a drawing review, no licence, no completion: a survey/design enterprise's backfill) has no
# works to describe: Wuxi asks BDate/EDate only "竣工备案环节为M"; the nature and use of the works are the
# construction record's (docs/design-projects.md, "Delivery": an assumption, no receiver's rule for it is public).
NOT_REQUIRED_OF_A_DESIGN_RECORD = {"TBProjectInfo": {"PrjPropertyNum", "PrjFunctionNum", "BDate", "EDate"}}
# A survey or design tender (001/002) has no construction area.
AREALESS_TENDER_CLASSES = {"001", "002"}

DICTIONARIES = {
    "PrjTypeNum": {"01", "02", "99"},
    "PrjPropertyNum": {"001", "002", "003", "004", "005", "006", "099"},
    "PrjFunctionNum": {
        "100", "200", "300", "301", "302", "303", "304", "305", "306", "307", "400", "500", "600", "700", "800",
        "999", "010", "011",
    },
    "TenderClassNum": {"001", "002", "003", "004", "005", "006", "007"},
    "TenderTypeNum": {"001", "002", "003", "099"},
    "ContractTypeNum": {"100", "200", "301", "302", "303", "400", "500", "600", "700"},
    "PrjStructureTypeNum": {f"{n:03d}" for n in range(1, 16)} | {"099"},
    "IDCardTypeNum": {"1", "2", "3", "4", "5", "6", "7"},
}  # fmt: skip
CODE_COLUMNS = {
    "PrjTypeNum": "PrjTypeNum",
    "PrjPropertyNum": "PrjPropertyNum",
    "PrjFunctionNum": "PrjFunctionNum",
    "TenderClassNum": "TenderClassNum",
    "TenderTypeNum": "TenderTypeNum",
    "ContractTypeNum": "ContractTypeNum",
    "PrjStructureTypeNum": "PrjStructureTypeNum",
    "IDCardTypeNum": "IDCardTypeNum",
    "CIDCardTypeNum": "IDCardTypeNum",
    "SIDCardTypeNum": "IDCardTypeNum",
}
CORP_CODES = {
    "BuildCorpCode", "AgencyCorpCode", "TenderCorpCode", "PropietorCorpCode", "ContractorCorpCode",
    "UnionCorpCode", "CensorCorpCode", "EconCorpCode", "DesignCorpCode", "ConsCorpCode", "SuperCorpCode",
    "QCCorpCode", "CorpCode",
}  # fmt: skip
ID_CARDS = {  # (table, number column) -> its document-type column
    ("TBTenderInfo", "ConstructorIDCard"): "IDCardTypeNum",
    ("TBBuilderLicenceManage", "ConstructorIDCard"): "CIDCardTypeNum",
    ("TBBuilderLicenceManage", "SupervisionIDCard"): "SIDCardTypeNum",
    ("TBProjectDesignEconUserInfo", "IDCard"): "IDCardTypeNum",
}
MONEY = {"AllInvest", "TenderMoney", "ContractMoney", "FactCost"}
AREAS = {"AllArea", "Area", "FactArea"}
DATES = {"BDate", "EDate", "TenderResultDate", "ContractDate", "CensorEDate", "IssueCertDate"}
STAGE_NUMBERS = {
    "TBTenderInfo": "TenderNum",
    "TBContractRecordManage": "RecordNum",
    "TBProjectCensorInfo": "CensorNum",
    "TBBuilderLicenceManage": "BuilderLicenceNum",
    "TBProjectFinishManage": "PrjFinishNum",
    "TBProjectDesignEconUserInfo": "CensorNum",
}
EMPTY = {"", "无", "/"}  # what the receivers count as empty (Wuxi)

PRJNUM = re.compile(r"[0-9]{16}")
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
DECIMAL_4 = re.compile(r"[0-9]{1,11}(\.[0-9]{1,4})?")
DECIMAL_2 = re.compile(r"[0-9]{1,13}(\.[0-9]{1,2})?")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def uscc_valid(value: str) -> bool:
    """统一社会信用代码, GB 32100-2015: 18 characters, the last a check character over the first 17."""
    if not USCC.fullmatch(value):
        return False
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(value[:17], USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31] == value[17]


def resident_id_valid(value: str) -> bool:
    """居民身份证号码, GB 11643: 17 digits and a check character."""
    if not re.fullmatch(r"[0-9]{17}[0-9X]", value):
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == value[17]


def empty(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in EMPTY)


def problems(project_number, payload: dict) -> list[dict]:
    found = []

    def refuse(table, field, message):
        found.append({"table": table, "field": field, "message": message})

    for table in payload:
        if table not in TABLES:
            refuse(table, "", "未知的数据表")
    projects = payload.get("TBProjectInfo")
    if not isinstance(projects, list) or len(projects) != 1 or not isinstance(projects[0], dict):
        refuse("TBProjectInfo", "", "缺少项目信息：须有且仅有一行（各环节信息须有所属项目）")
        return found
    licences = set()
    design_only = "TBProjectCensorInfo" in payload and not (
        payload.get("TBBuilderLicenceManage") or payload.get("TBProjectFinishManage")
    )
    for table in TABLES:
        rows = payload.get(table, [])
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            refuse(table, "", "须为数据行（对象）的列表")
            continue
        if table == "TBBuilderLicenceManage":
            licences = {row.get("BuilderLicenceNum") for row in rows}
        for row in rows:
            found.extend(row_problems(table, row, project_number, design_only=design_only))
    found.extend(_people_problems(payload))
    for row in (
        payload.get("TBProjectFinishManage", [])
        if isinstance(payload.get("TBProjectFinishManage"), list)
        else []
    ):
        licence = row.get("BuilderLicenceNum") if isinstance(row, dict) else None
        if licences and empty(licence):
            refuse("TBProjectFinishManage", "BuilderLicenceNum", "必填：本项目的施工许可证编号")
        elif not empty(licence) and licence not in licences:
            refuse(
                "TBProjectFinishManage",
                "BuilderLicenceNum",
                f"施工许可证编号{licence}在施工许可信息表中不存在",
            )
    return found


def _people_problems(payload) -> list[dict]:
    """Wuxi: TBProjectDesignEconUserInfo.CensorNum must resolve to an existing 审查 record."""
    censors = payload.get("TBProjectCensorInfo")
    known = (
        {r.get("CensorNum") for r in censors if isinstance(r, dict)} if isinstance(censors, list) else set()
    )
    people = payload.get("TBProjectDesignEconUserInfo")
    return [
        {
            "table": "TBProjectDesignEconUserInfo",
            "field": "CensorNum",
            "message": f"施工图审查合格书编号{row.get('CensorNum')}在施工图审查信息表中不存在",
        }
        for row in (people if isinstance(people, list) else [])
        if isinstance(row, dict) and not empty(row.get("CensorNum")) and row.get("CensorNum") not in known
    ]


def row_problems(table: str, row: dict, project_number, *, design_only: bool = False) -> list[dict]:
    """Every check one row fails, each as {table, field, message}: the row's frame (required columns, source and
    level, PrjNum), the rules between its columns, then each value against its format or code table."""
    found = []

    def refuse(field, message):
        found.append({"table": table, "field": field, "message": message})

    exempt = NOT_REQUIRED_OF_A_DESIGN_RECORD.get(table, set()) if design_only else set()
    if table == "TBTenderInfo" and row.get("TenderClassNum") in AREALESS_TENDER_CLASSES:
        exempt = {"Area"}
    for field in REQUIRED[table]:
        if field not in exempt and empty(row.get(field)):
            refuse(field, "必填字段为空")
    for check in (_frame_problems, _column_rule_problems, _division_problems, _value_problems):
        check(table, row, project_number, refuse)
    return found


def _frame_problems(table, row, project_number, refuse):
    if row.get("DataSource") != 3:
        refuse("DataSource", "数据来源须为3（历史业绩补录）")
    if row.get("DataLevel") not in ("A", "B", "C", "D"):
        refuse("DataLevel", "数据等级须为A、B、C或D")
    prj_num = row.get("PrjNum")
    if not empty(prj_num):
        if not isinstance(prj_num, str) or not PRJNUM.fullmatch(prj_num):
            refuse("PrjNum", "项目编号格式不正确，必须是由数字组成的16位编码")
        elif prj_num != project_number:
            refuse("PrjNum", f"所属项目{prj_num}不是本记录的项目{project_number}：立项项目不存在")


def _column_rule_problems(table, row, project_number, refuse):
    if table == "TBTenderInfo" and row.get("TenderTypeNum") != "003":
        for field in ("AgencyCorpName", "AgencyCorpCode"):
            if empty(row.get(field)):
                refuse(field, "必填（直接发包以外的招标须填写招标代理单位）")
    for (id_table, number), type_column in ID_CARDS.items():
        if id_table == table and not empty(row.get(number)) and empty(row.get(type_column)):
            refuse(type_column, "填写了证件号码时须填写证件类型")
    if table in STAGE_NUMBERS:
        field = STAGE_NUMBERS[table]
        value = row.get(field)
        pattern = rf"{re.escape(str(row.get('PrjNum')))}-[A-Z]{{2}}-[0-9]{{3}}"
        if not empty(value) and not (isinstance(value, str) and re.fullmatch(pattern, value)):
            refuse(field, "环节编号格式须为“项目编号-XX-nnn”")


def _division_problems(table, row, project_number, refuse):
    if table != "TBProjectInfo":
        return
    county = str(row.get("CountyNum") or "")
    for field, pattern in (("ProvinceNum", r"\d{2}0000"), ("CityNum", r"\d{4}00"), ("CountyNum", r"\d{6}")):
        if not empty(row.get(field)) and not re.fullmatch(pattern, str(row[field])):
            refuse(field, f"行政区划代码格式不正确（GB/T 2260，{pattern}）")
    if re.fullmatch(r"\d{6}", county) and (
        row.get("ProvinceNum") != county[:2] + "0000" or row.get("CityNum") != county[:4] + "00"
    ):
        refuse("CountyNum", "省、市、区县代码不一致")


def _value_problems(table, row, project_number, refuse):
    for field, value in row.items():
        if empty(value):
            continue
        problem = _value_problem(table, row, field, value)
        if problem:
            refuse(field, problem)


def _value_problem(table, row, field, value) -> str:
    if field in CODE_COLUMNS and value not in DICTIONARIES[CODE_COLUMNS[field]]:
        return f"代码值“{value}”不在代码表{CODE_COLUMNS[field]}内"
    if field in CORP_CODES:
        codes = value.split(";") if field == "UnionCorpCode" else [value]
        return (
            ""
            if all(isinstance(c, str) and uscc_valid(c) for c in codes)
            else "统一社会信用代码不正确（校验码）"
        )
    if (
        (table, field) in ID_CARDS
        and row.get(ID_CARDS[table, field]) == "1"
        and not resident_id_valid(str(value))
    ):
        return "身份证号码不正确（GB 11643）"
    formats = ((MONEY, DECIMAL_4, "金额须为万元，最多4位小数"), (AREAS, DECIMAL_2, "面积须为平方米，最多2位小数"),
               (DATES, DATE, "日期格式须为YYYY-MM-DD"))  # fmt: skip
    for fields, pattern, message in formats:
        if field in fields and not (isinstance(value, str) and pattern.fullmatch(value)):
            return message
    return ""
