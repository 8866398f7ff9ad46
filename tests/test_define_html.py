"""define.html from CDISC's define2-1.xsl: transformed with lxml, rendered in headless Chromium."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from lxml import html as lhtml

import define
from specs import InputError
from tests.conftest import SHARED_DATA
from tests.define_fixtures import CREATED, sdtm_package

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    spec, frames = sdtm_package(tmp_path_factory)
    folder = tmp_path_factory.mktemp("html")
    path = define.write_define(spec, frames, folder / "define.xml", created=CREATED)
    return define.write_define_html(path, folder / "define.html")


def test_html_lists_every_dataset_with_its_link(rendered):
    page = lhtml.fromstring(rendered.read_bytes())
    names = page.xpath("//table[@summary='Data Definition Tables']//tr/td[1]/a/text()")
    assert names == ["TS", "DM", "EX", "AE", "DS", "SUPPAE", "SUPPDM"]
    links = page.xpath("//table[@summary='Data Definition Tables']//a[contains(@href, '.xpt')]/@href")
    assert links == ["ts.xpt", "dm.xpt", "ex.xpt", "ae.xpt", "ds.xpt", "suppdm.xpt"]   # SUPPAE has no data
    assert page.xpath("//table[@summary='ItemGroup IG.IG.DM']")
    assert rendered.read_bytes() == define.write_define_html(rendered.with_name("define.xml"),
                                                             rendered.with_name("again.html")).read_bytes()


def test_html_refuses_define_2_0(tmp_path):
    pilot = SHARED_DATA / "cdiscpilot01" / "sdtm" / "define.xml"
    if not pilot.is_file():
        pytest.skip("../shared/data/cdiscpilot01 is not present")
    with pytest.raises(InputError, match="renders Define-XML 2.1 only"):
        define.write_define_html(pilot, tmp_path / "define.html")


@pytest.mark.browser
def test_define_html_renders_in_chromium(rendered, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
           "--dump-dom", rendered.as_uri()]
    result = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    dom = lhtml.fromstring(result.stdout)
    datasets = dom.xpath("//table[@summary='Data Definition Tables']")
    assert datasets, "the dataset table is not in the rendered DOM"
    assert dom.xpath("//table[@summary='Data Definition Tables']//a[@href='dm.xpt']/text()") == ["dm.xpt"]
    # one variable table per dataset, reached from the dataset list by a link that resolves
    for name in ("TS", "DM", "EX", "AE", "DS", "SUPPAE", "SUPPDM"):
        assert dom.xpath(f"//table[@summary='ItemGroup IG.IG.{name}']"), name
        href = dom.xpath(f"//table[@summary='Data Definition Tables']//a[text()='{name}']/@href")
        assert len(href) == 1 and href[0].startswith("#"), name
        assert dom.xpath(f"//*[@id='{href[0][1:]}']"), (name, href)
    assert "Demographics" in dom.text_content()
    shutil.rmtree(tmp_path / "profile", ignore_errors=True)
