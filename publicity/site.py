"""The public front door: the home page an anonymous visitor sees at /, and the guide for enterprises (办事指南).

The guide's facts come from where the portal keeps them, so the page cannot drift from what the system checks:
the backfill windows (data, projects.models.BackfillWindow), the evidence each stage needs (projects.rules), the
notice's length and day mode (settings), the upload limit. Its wording follows 渝建〔2018〕213号.
"""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_GET

from projects import views as project_views
from projects.models import STAGE_ORDER, BackfillWindow, StageCode
from projects.rules import EVIDENCE_REQUIRED

FAQ = [
    (
        "哪些项目可以补录？",
        "在重庆市行政区域内已竣工，具有施工许可证或县级以上主管部门同意开工证明材料，尚未进入全国建筑市场监管公共服务"
        "平台项目库的非涉密建筑工程施工总承包、市政公用工程施工总承包及相关专业承包项目，由建筑企业牵头补录。",
    ),
    (
        "补录的信息什么时候公开？",
        "项目所在地审核部门审核通过后即在本平台“项目公示”栏公示；公示期满无异议的进入全国平台项目库，永久公开。",
    ),
    (
        "对公示的项目有异议怎么办？",
        "在公示期内打开该项目的公示页面，填写异议事实和理由并可附证明材料。提交后公示暂停计时，"
        "凭受理编号可在“异议查询”中查看处理结果。您的联系方式和材料不会公开。",
    ),
    (
        "已入库的信息填错了能改吗？",
        "不能擅自修改。企业须向项目所在地区县城乡建委提出书面更正申请，经核实并报市审批服务中心同意后，"
        "更正后的信息重新公示，期满无异议后更新到全国平台。",
    ),
    (
        "公示页面会显示个人信息吗？",
        "不会。项目经理、总监理工程师的身份证号码只显示首尾几位，企业联系电话、证明材料和异议人信息均不公开。",
    ),
    (
        "忘记登录密码怎么办？",
        "在登录页点击“忘记密码”：账号登记了电子邮箱的，可通过邮件重置；未登记的，请联系开通账号的部门。",
    ),
]


@require_GET
def home(request):
    """Anonymous visitors: the portal's front page. Logged-in users go where they always went (their list,
    the console)."""
    if request.user.is_authenticated:
        return project_views.home(request)
    return render(
        request,
        "public/home.html",
        {"notice_days": settings.NOTICE_DAYS, "faq": FAQ},
    )


@require_GET
def guide(request):
    windows = list(BackfillWindow.objects.order_by("enterprise_kind"))
    return render(
        request,
        "public/guide.html",
        {
            "windows": windows,
            "evidence": [(StageCode(code).label, EVIDENCE_REQUIRED[code]) for code in STAGE_ORDER],
            "notice_days": settings.NOTICE_DAYS,
            "working_days": settings.NOTICE_DAY_MODE == "working",
            "max_upload_mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024),
            "backlog_days": settings.FIGURES_BACKLOG_DAYS,
        },
    )
