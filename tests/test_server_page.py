"""The chat page at `/` in a real headless browser (Debian's chromium through chromium-driver and
Selenium; nothing is downloaded): it shows the model, streams an answer, stops it, keeps the
conversation across a reload; a screenshot is saved as an artifact (pytest's tmp path)."""
from __future__ import annotations

import shutil

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from support.server import ServerProcess, http

QUESTION = "Count from 1 to 1000, one number per line."
WAIT = 120  # seconds: a bound on each wait, never a speed requirement


def browser_paths():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail("the chat page test needs Debian's chromium and chromium-driver "
                    "(apt-get install chromium chromium-driver; .ci/run installs them)")
    return chromium, driver


@pytest.fixture(scope="module")
def server(smollm2_path):
    s = ServerProcess(smollm2_path, ["--ctx", "2048", "--max-tokens-limit", "1500", "--threads", "2"])
    yield s
    assert s.stop() == 0


@pytest.fixture
def browser():
    chromium, driver_path = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    yield driver
    driver.quit()


def text_of(driver, css):
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


def test_chat_page_streams_stops_and_remembers(server, browser, tmp_path):
    wait = WebDriverWait(browser, WAIT)
    browser.get(server.url + "/")
    model_id = http(server.url, "GET", "/v1/models").json()["data"][0]["id"]
    wait.until(lambda d: d.find_element(By.ID, "model-name").text == model_id)

    browser.find_element(By.ID, "toggle-settings").click()
    for field, value in (("system", "You are a patient assistant."), ("temperature", "0"), ("max-tokens", "1500")):
        element = browser.find_element(By.ID, field)
        element.clear()
        element.send_keys(value, Keys.TAB)  # TAB: the change event saves the settings
    browser.find_element(By.ID, "input").send_keys(QUESTION, Keys.ENTER)

    answer = ".message.assistant .content"
    wait.until(lambda d: any(text_of(d, answer)))
    first = text_of(browser, answer)[-1]
    wait.until(lambda d: len(text_of(d, answer)[-1]) > len(first))  # more text arrived: it streams
    assert browser.find_element(By.ID, "stop").is_displayed(), "the answer ended before stop could be pressed"
    browser.find_element(By.ID, "stop").click()
    wait.until(lambda d: d.find_element(By.ID, "send").is_displayed())
    wait.until(lambda d: http(server.url, "GET", "/health").json()["slots"]["busy"] == 0)  # the server let go
    stopped = text_of(browser, answer)[-1]
    assert stopped and text_of(browser, ".message.assistant .note")[-1] == "(stopped)"
    assert "tokens/s" in browser.find_element(By.ID, "tps").text
    server.wait_for_log(r"POST /v1/chat/completions 200 .*\(stream closed early\)")

    copy = browser.find_element(By.CSS_SELECTOR, ".message.assistant .copy")
    copy.click()
    wait.until(lambda d: copy.text == "Copied")

    browser.refresh()
    wait.until(lambda d: text_of(d, ".message .content"))
    assert text_of(browser, ".message.user .content") == [QUESTION]
    assert text_of(browser, answer) == [stopped]
    browser.find_element(By.ID, "toggle-settings").click()
    assert browser.find_element(By.ID, "system").get_attribute("value") == "You are a patient assistant."
    shot = tmp_path / "chat_page.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {shot}")
