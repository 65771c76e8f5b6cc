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
