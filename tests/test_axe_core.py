"""axe-core from the npm registry (tests/axe.py): only the pinned release's bytes run, and the helper the
accessibility tests use does report a violation (a page that fails axe is caught, not passed silently)."""

import pytest

from tests.axe import AXE_CORE_INTEGRITY, AXE_CORE_VERSION, AxeCoreUnavailable, integrity_of, verified


def test_bytes_other_than_the_pinned_release_are_refused():
    with pytest.raises(AxeCoreUnavailable, match="integrity sha512-"):
        verified(b"window.axe = {run: async () => ({violations: []})};", source="a tampered tarball")
    assert integrity_of(b"") == (
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="
    )


@pytest.mark.browser
def test_the_helper_reports_what_axe_core_finds(page, axe):
    assert axe.script.startswith(f"/*! axe v{AXE_CORE_VERSION}")
    assert AXE_CORE_INTEGRITY.startswith("sha512-")
    page.set_content(
        '<html lang="zh-hans"><head><title>t</title></head><body><main><img src="x.png"></main></body></html>'
    )
    found = {violation["id"]: violation["impact"] for violation in axe.violations(page)}
    assert found.get("image-alt") == "critical", found

    page.set_content(
        '<html lang="zh-hans"><head><title>t</title></head><body><main><img src="x.png" alt="图"></main></body></html>'
    )
    assert "image-alt" not in {violation["id"] for violation in axe.violations(page)}
