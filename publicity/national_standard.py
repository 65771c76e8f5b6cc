"""The national standard as the delivery format: a snapshot turned into the standard's tables (docs/national-standard.md).

`tables()` is a pure function of the snapshot content, the stage record numbers and the data level, so a retried
delivery sends the same bytes (the idempotency key's fingerprint holds). Every choice the portal offers maps one to
one onto a code of the standard (CODES below; tests/test_national_standard.py enumerates them).
"""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

from projects.identifiers import parse_joint_venture_members
from projects.models import (
    ApprovalLevel,
    ContractType,
    IdDocumentType,
    ProjectFunction,
    ProjectNature,
    ProjectType,
    StructureType,
    TenderClass,
    TenderMethod,
    WorksCategory,
)

DATA_SOURCE_BACKFILL = 3  # 历史业绩补录

# portal choice -> national code, per code list. Where the portal already stores the national code, the map is the
# identity, written out so a new choice without a code fails the test that enumerates them.
CODES = {
    "PrjTypeNum": {c.value: c.value for c in WorksCategory},
    "PrjPropertyNum": {c.value: c.value for c in ProjectNature},
    "PrjFunctionNum": {c.value: c.value for c in ProjectFunction},
    # tbLxjbDic is not public; these are the codes of the labour platform's 立项级别 list, 099 by analogy with the
    # other lists' 其他 (docs/national-standard.md: unconfirmed).
    "PrjApprovalLevelNum": {
        ApprovalLevel.NATIONAL: "001",
        ApprovalLevel.PROVINCIAL: "002",
        ApprovalLevel.CITY: "003",
        ApprovalLevel.COUNTY: "004",
        ApprovalLevel.OTHER: "099",
    },
    "TenderClassNum": {
        TenderClass.SURVEY: "001",
        TenderClass.DESIGN: "002",
        TenderClass.CONSTRUCTION: "003",
        TenderClass.SUPERVISION: "004",
    },
    "TenderTypeNum": {
        TenderMethod.OPEN: "001",
        TenderMethod.INVITED: "002",
        TenderMethod.DIRECT: "003",
        TenderMethod.OTHER: "099",
    },
    "ContractTypeNum": {c.value: c.value for c in ContractType},
    "PrjStructureTypeNum": {c.value: c.value for c in StructureType},
    "IDCardTypeNum": {c.value: c.value for c in IdDocumentType},
}

# A design record has no registration stage: its 项目分类 is its project type (房屋建筑工程 / 市政工程).
WORKS_CATEGORY_OF_DESIGN_TYPE = {
    ProjectType.BUILDING_WORKS: WorksCategory.BUILDING,
    ProjectType.MUNICIPAL_WORKS: WorksCategory.MUNICIPAL,
}

# The stage record number's XX (PrjNum-XX-nnn), by table and, for tenders and contracts, by national type code.
TENDER_XX = {"001": "BB", "002": "BA", "003": "BD", "004": "BE"}
CONTRACT_XX = {"100": "HB", "200": "HA", "301": "HZ", "302": "HF", "303": "HL", "400": "HE", "600": "HG"}
STAGE_XX = {"drawing_review": "TX", "permit": "SX", "completion": "JX"}

TABLE_OF_STAGE = {
    "tendering": "TBTenderInfo",
    "contract": "TBContractRecordManage",
    "drawing_review": "TBProjectCensorInfo",
    "permit": "TBBuilderLicenceManage",
    "completion": "TBProjectFinishManage",
}


def code(code_list: str, value) -> str:
    if value in (None, ""):
        return ""
    return CODES[code_list][value]


def wan_yuan(value) -> str:
    """元 as text -> 万元 with 4 decimals, as text (exact: no float)."""
    if value in (None, ""):
        return ""
    return str((Decimal(value) / 10000).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def area(value) -> str:
    return "" if value in (None, "") else str(Decimal(value).quantize(Decimal("0.01")))


def data_level(authority_kind: str) -> str:
    """数据等级 by the level of the reviewing authority: a setting, because no public source defines A/B/C/D."""
    return settings.NATIONAL_DATA_LEVELS[authority_kind]


def record_number_prefix(stage_code: str, stage: dict) -> str:
    """PrjNum-XX for a stage as it is now; the number is issued once and kept (publicity.models.StageRecordNumber)."""
    if stage_code == "tendering":
        return TENDER_XX[code("TenderClassNum", stage.get("tender_class")) or "003"]
    if stage_code == "contract":
        return CONTRACT_XX[stage.get("contract_type") or "301"]
    return STAGE_XX[stage_code]


def joint_venture(members) -> tuple[str, str]:
    """联合体成员 ([{name, credit_code}], or the text of a snapshot taken before they were kept structured) ->
    (names, codes) joined with ';' as UnionCorpName/UnionCorpCode."""
    if isinstance(members, str):
        members = parse_joint_venture_members(members)
    members = members or []
    return ";".join(m.get("name", "") for m in members), ";".join(m.get("credit_code", "") for m in members)


def _design_registration(project: dict, stages: dict) -> dict:
    """A design record's TBProjectInfo from what it holds: the works category from its project type, the owner
    from its contract's employer (发包)."""
    contract = stages.get("contract") or {}
    return {
        "works_category": WORKS_CATEGORY_OF_DESIGN_TYPE.get(project.get("project_type"), ""),
        "owner_name": contract.get("employer_name", ""),
        "owner_credit_code": contract.get("employer_credit_code", ""),
    }


def _review_units(holder: dict) -> dict:
    return {
        "EconCorpName": holder.get("survey_enterprise_name", ""),
        "EconCorpCode": holder.get("survey_enterprise_credit_code", ""),
        "DesignCorpName": holder.get("design_enterprise_name", ""),
        "DesignCorpCode": holder.get("design_enterprise_credit_code", ""),
    }


def _designers(common: dict, censor_number: str, review: dict) -> list[dict]:
    """TBProjectDesignEconUserInfo: one row per designer, of the design unit, linked by the CensorNum. The code
    lists of 注册类型及等级 (SpecialtyTypNum) and 承担角色 (PrjDuty) are not public (docs/national-standard.md): the
    registration stays in the portal (SpecialtyTypNum empty) until the code list is known; the role goes as its name
    (PrjDuty is varchar(50))."""
    rows = []
    for person in review.get("designers") or []:
        rows.append(
            {
                **common,
                "CensorNum": censor_number,
                "CorpName": review.get("design_enterprise_name", ""),
                "CorpCode": review.get("design_enterprise_credit_code", ""),
                "UserName": person.get("name", ""),
                "IDCardTypeNum": code("IDCardTypeNum", person.get("id_type")),
                "IDCard": person.get("id_number", ""),
                "SpecialtyTypNum": "",
                "PrjDuty": person.get("role", ""),
            }
        )
    return rows


def tables(content: dict, *, numbers: dict[str, str], level: str) -> dict[str, list[dict]]:
    """The snapshot as the standard's tables, one row per stage held, linked by PrjNum. `numbers`: stage code ->
    its stage record number (PrjNum-XX-nnn)."""
    number = content["project_number"]
    project, stages = content["project"], content["stages"]
    county = project["county_code"] or ""
    common = {"PrjNum": number, "DataSource": DATA_SOURCE_BACKFILL, "DataLevel": level}
    design = content.get("kind") == "design"
    registration = stages.get("registration") or {}
    if design:
        registration = _design_registration(project, stages)
    completion = stages.get("completion") or {}
    permit = stages.get("permit")
    review = stages.get("drawing_review")
    result = {
        "TBProjectInfo": [
            {
                **common,
                "PrjName": project["name"],
                "PrjTypeNum": code("PrjTypeNum", registration.get("works_category")),
                "BuildCorpName": registration.get("owner_name", ""),
                "BuildCorpCode": registration.get("owner_credit_code", ""),
                "ProvinceNum": county[:2] + "0000" if county else "",
                "CityNum": county[:4] + "00" if county else "",
                "CountyNum": county,
                "PrjApprovalNum": registration.get("approval_number", ""),
                "PrjApprovalLevelNum": code("PrjApprovalLevelNum", registration.get("approval_level")),
                "BuldPlanNum": registration.get("land_use_permit_number", ""),
                "ProjectPlanNum": registration.get("works_planning_permit_number", ""),
                "AllInvest": wan_yuan(project["total_investment"]),
                "AllArea": area(project["total_area"]),
                "PrjSize": registration.get("scale", ""),
                "PrjPropertyNum": code("PrjPropertyNum", registration.get("nature")),
                "PrjFunctionNum": code("PrjFunctionNum", registration.get("function_code")),
                "BDate": completion.get("actual_start_on") or "",
                "EDate": completion.get("actual_completion_on") or "",
            }
        ]
    }
    if tendering := stages.get("tendering"):
        result["TBTenderInfo"] = [
            {
                **common,
                "TenderNum": numbers["tendering"],
                "TenderClassNum": code("TenderClassNum", tendering["tender_class"]),
                "TenderTypeNum": code("TenderTypeNum", tendering["tender_method"]),
                "TenderResultDate": tendering["awarded_on"] or "",
                "TenderMoney": wan_yuan(tendering["award_amount"]),
                "Area": area(tendering["area"]),
                "AgencyCorpName": tendering["tender_agency_name"],
                "AgencyCorpCode": tendering.get("tender_agency_credit_code", ""),
                "TenderCorpName": tendering["winner_name"],
                "TenderCorpCode": tendering["winner_credit_code"],
                "ConstructorName": tendering["project_manager_name"],
                "IDCardTypeNum": code("IDCardTypeNum", tendering.get("project_manager_id_type")),
                "ConstructorIDCard": tendering["project_manager_id_number"],
                "provinceTenderNum": tendering["award_notice_number"],
            }
        ]
    if contract := stages.get("contract"):
        union_names, union_codes = joint_venture(contract["joint_venture_members"])
        result["TBContractRecordManage"] = [
            {
                **common,
                "RecordNum": numbers["contract"],
                "ContractNum": contract["contract_number"],
                "ContractTypeNum": code("ContractTypeNum", contract["contract_type"]),
                "ContractMoney": wan_yuan(contract["amount"]),
                "ContractDate": contract["signed_on"] or "",
                "PropietorCorpName": contract["employer_name"],
                "PropietorCorpCode": contract["employer_credit_code"],
                "ContractorCorpName": contract["contractor_name"],
                "ContractorCorpCode": contract["contractor_credit_code"],
                "UnionCorpName": union_names,
                "UnionCorpCode": union_codes,
                "provinceContractNum": contract["filing_number"],
            }
        ]
    if review:
        result["TBProjectCensorInfo"] = [
            {
                **common,
                "CensorNum": numbers["drawing_review"],
                "CensorCorpName": review["review_agency_name"],
                "CensorCorpCode": review["review_agency_credit_code"],
                "CensorEDate": review["completed_on"] or "",
                # A construction record holds the survey and design units on its permit (the same units the review
                # certificate names); a design record on the review itself.
                **_review_units(review if design else (permit or {})),
                "OneCensorIsPass": ""
                if review["passed_first_review"] is None
                else int(review["passed_first_review"]),
                "OneCensorWfqtCount": review["first_review_violation_count"],
                "OneCensorWfqtContent": review["first_review_violations"],
                "provinceCensorNum": review["certificate_number"],
            }
        ]
    if design and review:
        result["TBProjectDesignEconUserInfo"] = _designers(common, numbers["drawing_review"], review)
    if permit:
        cites_review = review and permit["drawing_review_certificate_number"] == review["certificate_number"]
        result["TBBuilderLicenceManage"] = [
            {
                **common,
                "BuilderLicenceNum": numbers["permit"],
                "BuldPlanNum": permit["land_use_permit_number"],
                "ProjectPlanNum": permit["works_planning_permit_number"],
                "CensorNum": numbers["drawing_review"]
                if cites_review
                else permit["drawing_review_certificate_number"],
                "ContractMoney": wan_yuan(permit["contract_amount"]),
                "Area": area(permit["area"]),
                "IssueCertDate": permit["issued_on"] or "",
                "EconCorpName": permit["survey_enterprise_name"],
                "EconCorpCode": permit.get("survey_enterprise_credit_code", ""),
                "DesignCorpName": permit["design_enterprise_name"],
                "DesignCorpCode": permit.get("design_enterprise_credit_code", ""),
                "ConsCorpName": permit["construction_enterprise_name"],
                "ConsCorpCode": permit["construction_enterprise_credit_code"],
                "SafetyCerID": permit["safety_licence_number"],
                "SuperCorpName": permit["supervision_enterprise_name"],
                "SuperCorpCode": permit.get("supervision_enterprise_credit_code", ""),
                "ConstructorName": permit["project_manager_name"],
                "CIDCardTypeNum": code("IDCardTypeNum", permit.get("project_manager_id_type")),
                "ConstructorIDCard": permit["project_manager_id_number"],
                "SupervisionName": permit["chief_supervisor_name"],
                "SIDCardTypeNum": code("IDCardTypeNum", permit.get("chief_supervisor_id_type")),
                "SupervisionIDCard": permit["chief_supervisor_id_number"],
                "provinceLicenceNo": permit["permit_number"],
            }
        ]
    if stages.get("completion"):
        if permit is None:
            licence = ""  # started on another authority's approval: there is no licence to cite
        elif completion["permit_number"] == permit["permit_number"]:
            licence = numbers["permit"]
        else:
            licence = completion[
                "permit_number"
            ]  # a permit this record does not hold: the platform refuses it
        result["TBProjectFinishManage"] = [
            {
                **common,
                "PrjFinishNum": numbers["completion"],
                "BuilderLicenceNum": licence,
                "FactCost": wan_yuan(completion["actual_cost"]),
                "FactArea": area(completion["actual_area"]),
                "FactSize": completion["actual_scale"],
                "PrjStructureTypeNum": code("PrjStructureTypeNum", completion["structure_type"]),
                "BDate": completion["actual_start_on"] or "",
                "EDate": completion["actual_completion_on"] or "",
                "Mark": completion["remarks"],
                "provincePrjFinishNum": completion["filing_number"],
            }
        ]
    return result


# Where a refused column comes from: (table, column) -> (stage, field) of the portal, so the console can show the
# platform's reason beside the record's own field.
SOURCES = {
    ("TBProjectInfo", "PrjName"): ("project", "name"),
    ("TBProjectInfo", "PrjTypeNum"): ("registration", "works_category"),
    ("TBProjectInfo", "BuildCorpName"): ("registration", "owner_name"),
    ("TBProjectInfo", "BuildCorpCode"): ("registration", "owner_credit_code"),
    ("TBProjectInfo", "CountyNum"): ("project", "county_code"),
    ("TBProjectInfo", "PrjPropertyNum"): ("registration", "nature"),
    ("TBProjectInfo", "PrjFunctionNum"): ("registration", "function_code"),
    ("TBProjectInfo", "BDate"): ("completion", "actual_start_on"),
    ("TBProjectInfo", "EDate"): ("completion", "actual_completion_on"),
    ("TBTenderInfo", "TenderClassNum"): ("tendering", "tender_class"),
    ("TBTenderInfo", "TenderTypeNum"): ("tendering", "tender_method"),
    ("TBTenderInfo", "TenderResultDate"): ("tendering", "awarded_on"),
    ("TBTenderInfo", "TenderMoney"): ("tendering", "award_amount"),
    ("TBTenderInfo", "Area"): ("tendering", "area"),
    ("TBTenderInfo", "AgencyCorpName"): ("tendering", "tender_agency_name"),
    ("TBTenderInfo", "AgencyCorpCode"): ("tendering", "tender_agency_credit_code"),
    ("TBTenderInfo", "TenderCorpName"): ("tendering", "winner_name"),
    ("TBTenderInfo", "TenderCorpCode"): ("tendering", "winner_credit_code"),
    ("TBTenderInfo", "IDCardTypeNum"): ("tendering", "project_manager_id_type"),
    ("TBTenderInfo", "ConstructorIDCard"): ("tendering", "project_manager_id_number"),
    ("TBContractRecordManage", "ContractNum"): ("contract", "contract_number"),
    ("TBContractRecordManage", "ContractTypeNum"): ("contract", "contract_type"),
    ("TBContractRecordManage", "ContractMoney"): ("contract", "amount"),
    ("TBContractRecordManage", "ContractDate"): ("contract", "signed_on"),
    ("TBContractRecordManage", "PropietorCorpName"): ("contract", "employer_name"),
    ("TBContractRecordManage", "PropietorCorpCode"): ("contract", "employer_credit_code"),
    ("TBContractRecordManage", "ContractorCorpName"): ("contract", "contractor_name"),
    ("TBContractRecordManage", "ContractorCorpCode"): ("contract", "contractor_credit_code"),
    ("TBContractRecordManage", "UnionCorpCode"): ("contract", "joint_venture_members"),
    ("TBProjectCensorInfo", "CensorCorpName"): ("drawing_review", "review_agency_name"),
    ("TBProjectCensorInfo", "CensorCorpCode"): ("drawing_review", "review_agency_credit_code"),
    ("TBProjectCensorInfo", "CensorEDate"): ("drawing_review", "completed_on"),
    ("TBProjectCensorInfo", "EconCorpCode"): ("drawing_review", "survey_enterprise_credit_code"),
    ("TBProjectCensorInfo", "DesignCorpCode"): ("drawing_review", "design_enterprise_credit_code"),
    ("TBProjectDesignEconUserInfo", "IDCard"): ("drawing_review", "designers"),
    ("TBProjectDesignEconUserInfo", "UserName"): ("drawing_review", "designers"),
    ("TBProjectDesignEconUserInfo", "PrjDuty"): ("drawing_review", "designers"),
    ("TBBuilderLicenceManage", "CensorNum"): ("permit", "drawing_review_certificate_number"),
    ("TBBuilderLicenceManage", "Area"): ("permit", "area"),
    ("TBBuilderLicenceManage", "IssueCertDate"): ("permit", "issued_on"),
    ("TBBuilderLicenceManage", "EconCorpName"): ("permit", "survey_enterprise_name"),
    ("TBBuilderLicenceManage", "EconCorpCode"): ("permit", "survey_enterprise_credit_code"),
    ("TBBuilderLicenceManage", "DesignCorpName"): ("permit", "design_enterprise_name"),
    ("TBBuilderLicenceManage", "DesignCorpCode"): ("permit", "design_enterprise_credit_code"),
    ("TBBuilderLicenceManage", "ConsCorpName"): ("permit", "construction_enterprise_name"),
    ("TBBuilderLicenceManage", "ConsCorpCode"): ("permit", "construction_enterprise_credit_code"),
    ("TBBuilderLicenceManage", "SuperCorpName"): ("permit", "supervision_enterprise_name"),
    ("TBBuilderLicenceManage", "SuperCorpCode"): ("permit", "supervision_enterprise_credit_code"),
    ("TBBuilderLicenceManage", "ConstructorName"): ("permit", "project_manager_name"),
    ("TBBuilderLicenceManage", "CIDCardTypeNum"): ("permit", "project_manager_id_type"),
    ("TBBuilderLicenceManage", "ConstructorIDCard"): ("permit", "project_manager_id_number"),
    ("TBBuilderLicenceManage", "SupervisionName"): ("permit", "chief_supervisor_name"),
    ("TBBuilderLicenceManage", "SIDCardTypeNum"): ("permit", "chief_supervisor_id_type"),
    ("TBBuilderLicenceManage", "SupervisionIDCard"): ("permit", "chief_supervisor_id_number"),
    ("TBProjectFinishManage", "BuilderLicenceNum"): ("completion", "permit_number"),
    ("TBProjectFinishManage", "FactCost"): ("completion", "actual_cost"),
    ("TBProjectFinishManage", "FactArea"): ("completion", "actual_area"),
    ("TBProjectFinishManage", "PrjStructureTypeNum"): ("completion", "structure_type"),
    ("TBProjectFinishManage", "BDate"): ("completion", "actual_start_on"),
    ("TBProjectFinishManage", "EDate"): ("completion", "actual_completion_on"),
}


def source_of(table: str, column: str) -> tuple[str, str]:
    """The portal's (stage, field) behind a national column; ("", "") where there is none (numbers, codes)."""
    return SOURCES.get((table, column), ("", ""))
