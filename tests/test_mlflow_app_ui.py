"""The MLflow UI, served by `mlflow server --app-name mlfilter`, in headless Chromium (Debian's
chromium and chromedriver, driven by Selenium): a bad filter typed into the runs search box
shows mlfilter's diagnostic on the page. A screenshot is kept in the test's temporary folder."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.mlflow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
if CHROMIUM is None or DRIVER is None:
    pytest.skip("needs Debian's chromium and chromium-driver (.ci/run installs them)",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver")

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000")


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _search_box(driver):
    from selenium.webdriver.common.by import By

    for element in driver.find_elements(By.CSS_SELECTOR, "input"):
        if element.is_displayed() and "metrics." in (element.get_attribute("placeholder") or ""):
            return element
    return False


def test_the_ui_shows_mlfilters_error(mlfilter_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    url, logged, log = mlfilter_server
    eid = logged.experiments["vision"]
    browser.get(f"{url}/#/experiments/{eid}/runs?workflowType=machine_learning")
    box = WebDriverWait(browser, 120).until(_search_box)
    box.send_keys("params.batch_size = 32", Keys.ENTER)

    def shown(driver):
        text = driver.find_element(By.TAG_NAME, "body").text
        return text if "error[MF201]" in text else False

    try:
        text = WebDriverWait(browser, 60).until(shown)
    finally:
        browser.save_screenshot(str(tmp_path / "runs-search.png"))
    assert "`params.batch_size` holds strings: the number `32` must be quoted" in text
    assert "help: quote it: '32'" in text
    assert "(mlfilter: MLflow 3.17.2 on SQLite rejects this search)" in text
    # the UI asked through its own routes, and mlfilter answered
    from pathlib import Path

    assert "refused POST /ajax-api/2.0/mlflow/runs/search" in Path(log).read_text(errors="replace")
