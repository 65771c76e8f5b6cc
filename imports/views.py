"""The enterprise's import pages: thin, over imports.services; who may act is projects.permissions'."""

from functools import wraps

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from projects import audit, permissions
from projects.audit import Actor
from projects.files import size_label
from projects.models import ProjectKind

from . import services
from .models import ImportJob

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def enterprise_only(action):
    """Logged in and acting for an enterprise (projects.permissions.ensure_enterprise); a refusal is audited."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            with audit.refusals_recorded(Actor.from_request(request), action):
                enterprise = permissions.ensure_enterprise(request.user)
            return view(request, enterprise, *args, **kwargs)

        return wrapper

    return decorate


def own_job_or_404(request, enterprise, pk, action) -> ImportJob:
    """Another enterprise's job does not exist for this one (404, audited with the id asked for)."""
    with audit.refusals_recorded(
        Actor.from_request(request),
        action,
        ImportJob(pk=pk),
        refusals=(Http404,),
        message_of=lambda _refusal: "该导入任务不存在或不属于本单位。",
    ):
        return get_object_or_404(ImportJob.objects.filter(enterprise=enterprise), pk=pk)


class ImportForm(forms.Form):
    workbook = forms.FileField(label="导入工作簿（.xlsx）", help_text="请使用导入模板填写。")
    evidence_zip = forms.FileField(
        label="证明材料压缩包（.zip，可选）",
        required=False,
        help_text="目录为：序号（或项目编号）/环节名称/文件，如“1/项目报建/立项批文.pdf”。",
    )

    def clean_workbook(self):
        workbook = self.cleaned_data["workbook"]
        if workbook.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"工作簿超过{size_label(settings.IMPORT_MAX_BYTES)}，请分成几个工作簿导入。"
            )
        return workbook

    def clean_evidence_zip(self):
        bundle = self.cleaned_data.get("evidence_zip")
        if bundle and bundle.size > settings.IMPORT_MAX_ZIP_BYTES:
            raise forms.ValidationError(
                f"压缩包超过{size_label(settings.IMPORT_MAX_ZIP_BYTES)}，请分成几次上传。"
            )
        return bundle


@enterprise_only("import.start")
def import_home(request, enterprise):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = services.start_import(
            actor=Actor.from_request(request),
            workbook=form.cleaned_data["workbook"],
            evidence_zip=form.cleaned_data.get("evidence_zip"),
        )
        return redirect("imports:job", pk=job.pk)
    jobs = ImportJob.objects.filter(enterprise=enterprise).select_related("created_by")[:20]
    kind = services.import_kind(enterprise)
    return render(
        request,
        "imports/import.html",
        {"form": form, "jobs": jobs, "enterprise": enterprise, "design": kind == ProjectKind.DESIGN},
    )


# The template's file name per kind, as RFC 5987 encodes it: 补录导入模板.xlsx, 设计项目导入模板.xlsx.
TEMPLATE_NAMES = {
    ProjectKind.CONSTRUCTION: "%E8%A1%A5%E5%BD%95%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx",
    ProjectKind.DESIGN: "%E8%AE%BE%E8%AE%A1%E9%A1%B9%E7%9B%AE%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx",
}


@enterprise_only("import.template")
def template(request, enterprise):
    kind = services.import_kind(enterprise)
    response = HttpResponse(services.template_bytes(kind), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{TEMPLATE_NAMES[kind]}"
    return response


@enterprise_only("import.export")
def export(request, enterprise):
    response = HttpResponse(services.export_bytes(enterprise), content_type=XLSX)
    name = f"export-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@enterprise_only("import.view")
def job_detail(request, enterprise, pk):
    job = own_job_or_404(request, enterprise, pk, "import.view")
    refused = [r for r in job.results if r["outcome"] == "refused"]
    warned = [r for r in job.results if r["outcome"] != "refused" and r["problems"]]
    return render(
        request,
        "imports/job.html",
        {
            "job": job,
            "refused": refused,
            "warned": warned,
            "saved": [r for r in job.results if r["project_id"]],
        },
    )


@enterprise_only("import.view")
def job_status(request, enterprise, pk):
    job = own_job_or_404(request, enterprise, pk, "import.view")
    return JsonResponse(
        {
            "status": job.status,
            "status_label": job.get_status_display(),
            "total": job.total,
            "processed": job.processed,
            "percent": job.percent,
            "finished": job.is_finished,
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": job.unchanged_count,
            "refused": job.refused_count,
            "message": job.message,
        }
    )


@enterprise_only("import.view")
def job_annotated(request, enterprise, pk):
    job = own_job_or_404(request, enterprise, pk, "import.view")
    if not job.is_finished or not job.has_problems:
        raise Http404("该导入没有需要标注的问题。")
    response = HttpResponse(services.annotated_bytes(job), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="annotated-{job.pk}.xlsx"'
    return response
