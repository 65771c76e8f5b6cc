"""Sections that later apps add to the enterprise's project page, so that projects names none of their URLs and
its pages work without them (docs/architecture.md: imports run one way, projects imports no other app).

An app registers its section in its AppConfig.ready(); the project page includes each section's template, with
the page's own context, when the section applies to the record."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProjectSection:
    template: str
    applies: Callable  # (project) -> bool


PROJECT_PAGE_SECTIONS: list[ProjectSection] = []


def register_project_section(template: str, *, applies: Callable) -> None:
    """Add a section to the project page once (ready() may run more than once in tests)."""
    if all(section.template != template for section in PROJECT_PAGE_SECTIONS):
        PROJECT_PAGE_SECTIONS.append(ProjectSection(template=template, applies=applies))


def project_sections(project) -> list[str]:
    """The templates of the sections that apply to this record, in the order the apps registered them."""
    return [section.template for section in PROJECT_PAGE_SECTIONS if section.applies(project)]


# ---------------------------------------------------------------- work counts on the console's work queue


@dataclass(frozen=True)
class WorkCount:
    """A kind of work a later app hands to console users (correction requests to decide, spot-check items to
    check): a tab of the work queue, with its count and a page of its rows."""

    key: str  # the queue's ?tab= value
    label: str
    items: Callable  # (user) -> QuerySet | None; None: not this user's work (the queue shows no tab)
    template: str  # the table of a page of those rows, included by the queue page (context: page)
    url_name: str  # the app's own full list


WORK_COUNTS: list[WorkCount] = []


def register_work_count(key: str, label: str, *, items: Callable, template: str, url_name: str) -> None:
    """Add a tab to the work queue (review's queue page) once; the app registers it in its AppConfig.ready()."""
    if all(item.key != key for item in WORK_COUNTS):
        WORK_COUNTS.append(WorkCount(key=key, label=label, items=items, template=template, url_name=url_name))


def work_counts(user) -> list[tuple[WorkCount, object]]:
    """(the kind of work, its rows as a queryset) for each registered kind that is this user's work."""
    listed = [(item, item.items(user)) for item in WORK_COUNTS]
    return [(item, rows) for item, rows in listed if rows is not None]


# ---------------------------------------------------------------- where a console user lands


_CONSOLE_LANDING = ["admin:index"]


def set_console_landing(url_name: str) -> None:
    """The page a reviewer or city user lands on from the home page (review sets its work queue)."""
    _CONSOLE_LANDING[0] = url_name


def console_landing() -> str:
    return _CONSOLE_LANDING[0]
