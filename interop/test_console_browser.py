"""The admin console in a real browser (Debian's chromium driven by selenium), and its
security headers and cookies as a plain HTTP client sees them."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from conftest import create_org, tail, unique

CHROMEDRIVER = "/usr/bin/chromedriver"
PASSWORD = "correct horse battery staple 42"
WAIT = 20


# --- browser ---------------------------------------------------------------------------


def make_driver() -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800"):
        opts.add_argument(arg)
    # Browser console messages reveal CSP violations: a console that breaks its own policy.
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit Service path: Selenium Manager never runs, nothing is downloaded.
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)


class Steps:
    """Screenshots of each step into a temp dir; on failure the test names the dir, the URL
    and the page's text."""

    def __init__(self, driver, directory: Path):
        self.driver = driver
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def shot(self, name: str) -> None:
        self.count += 1
        try:
            self.driver.save_screenshot(str(self.directory / f"{self.count:02d}-{name}.png"))
        except WebDriverException:
            pass

    def context(self) -> str:
        try:
            body = self.driver.find_element(By.TAG_NAME, "body").text
        except WebDriverException:
            body = "(no page)"
        return f"url: {self.driver.current_url}\nscreenshots: {self.directory}\npage text:\n{tail(body, 40)}"


def wait_for(driver, condition, what: str, steps: Steps):
    try:
        return WebDriverWait(driver, WAIT).until(condition)
    except Exception as exc:  # TimeoutException and friends: report what the page showed
        steps.shot("failure")
        pytest.fail(f"timed out waiting for {what} ({type(exc).__name__})\n{steps.context()}")


def find(driver, by, value, steps: Steps):
    try:
        return driver.find_element(by, value)
    except NoSuchElementException:
        steps.shot("failure")
        pytest.fail(f"no element {by}={value!r}\n{steps.context()}")


def fill(driver, steps: Steps, **fields: str) -> None:
    for name, value in fields.items():
        element = find(driver, By.NAME, name, steps)
        element.clear()
        element.send_keys(value)


def submit(driver, steps: Steps, button_id: str) -> None:
    """Click and wait until the old page is gone (a form post loads a new document)."""
    old = find(driver, By.TAG_NAME, "html", steps)
    find(driver, By.ID, button_id, steps).click()

    def reloaded(d):
        try:
            old.is_enabled()
            return False
        except WebDriverException:
            return True

    wait_for(driver, reloaded, f"the page after clicking #{button_id}", steps)


def on_signin_page(driver) -> bool:
    return "/console/signin" in urlparse(driver.current_url).path or bool(driver.find_elements(By.NAME, "organization"))


def csp_violations(driver) -> list[str]:
    try:
        entries = driver.get_log("browser")
    except WebDriverException:
        return []
    return [e["message"] for e in entries if "Content Security Policy" in e.get("message", "")]


@pytest.fixture
def console(rampart_bin, server_factory, sqlite):
    """A server and a fresh organisation whose setup link points at that server."""
    server = server_factory(sqlite)
    admin = f"admin-{uuid.uuid4().hex[:8]}@console.example.test"
    org = create_org(rampart_bin, sqlite.args, unique("Console Org"), admin, "--public-url", server.base_url)
    return server, org, admin


def test_setup_create_user_and_see_it_audited(console, tmp_path):
    server, org, admin = console
    slug = org["organization"]["slug"]
    new_email = f"new+{uuid.uuid4().hex[:8]}@console.example.test"

    setup_link = org["setupLink"]
    assert setup_link.startswith(server.base_url + "/console/setup?token="), setup_link

    driver = make_driver()
    steps = Steps(driver, tmp_path / "screenshots")
    try:
        # 1. The setup link from `org create`: choose the admin's password.
        driver.get(setup_link)
        steps.shot("setup")
        fill(driver, steps, password=PASSWORD, password_confirm=PASSWORD)
        submit(driver, steps, "submit")
        steps.shot("after-setup")
        assert "/console/setup" not in urlparse(driver.current_url).path, (
            f"still on the setup page after choosing a password\n{steps.context()}"
        )

        # 2. Either signed in already, or sent to sign in.
        if on_signin_page(driver):
            if "/console/signin" not in urlparse(driver.current_url).path:
                driver.get(f"{server.base_url}/console/signin")
            fill(driver, steps, organization=slug, email=admin, password=PASSWORD)
            steps.shot("signin")
            submit(driver, steps, "signin")
            steps.shot("after-signin")
            assert not on_signin_page(driver), f"sign-in did not succeed\n{steps.context()}"

        # 3. Create a user through the console form.
        driver.get(f"{server.base_url}/console/users")
        steps.shot("users")
        assert not on_signin_page(driver), f"/console/users sent a signed-in admin to sign in\n{steps.context()}"
        fill(driver, steps, email=new_email, display_name="Console Created")
        submit(driver, steps, "create-user")
        steps.shot("after-create-user")

        driver.get(f"{server.base_url}/console/users")
        steps.shot("users-after")
        assert new_email in find(driver, By.TAG_NAME, "body", steps).text, (
            f"the new user is not listed on /console/users\n{steps.context()}"
        )
        # The same email again: refused beside the email field, with what was typed kept.
        fill(driver, steps, email=new_email, display_name="Console Twice")
        submit(driver, steps, "create-user")
        steps.shot("email-taken")
        assert "already exists" in find(driver, By.ID, "email-error", steps).text, steps.context()
        assert find(driver, By.ID, "display_name", steps).get_attribute("value") == "Console Twice", steps.context()
        assert find(driver, By.ID, "email", steps).get_attribute("aria-describedby") == "email-error", steps.context()

        # 4. The audit log shows the creation, with the user's email, on one row.
        driver.get(f"{server.base_url}/console/audit")
        steps.shot("audit")
        rows = driver.find_elements(By.CSS_SELECTOR, "tr, [role=row]")
        matching = [r.text for r in rows if "user.created" in r.text and new_email in r.text]
        assert matching, f"no audit row with user.created and {new_email}\n{steps.context()}"

        # 4b. A search typed with spaces and a plus sign (the email's) finds that one event;
        #     a one-click view replaces it, and the back button brings the search back.
        typed = f"USER.created   {new_email}"
        fill(driver, steps, q=typed)
        submit(driver, steps, "filter")
        steps.shot("audit-search")
        found = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#events tbody tr")]
        assert len(found) == 1 and new_email in found[0], f"search for {typed!r} found {found}\n{steps.context()}"
        assert find(driver, By.ID, "q", steps).get_attribute("value") == typed, steps.context()
        submit(driver, steps, "fast-user-changes")
        steps.shot("audit-user-changes")
        actions = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#events td.action")]
        assert actions and all(a.startswith("user.") for a in actions), f"{actions}\n{steps.context()}"
        assert find(driver, By.ID, "q", steps).get_attribute("value") == "", steps.context()
        driver.back()
        wait_for(driver, lambda d: d.find_element(By.ID, "q").get_attribute("value") == typed,
                 "the search back after the back button", steps)

        # 4c. Save the search as a view, open another, click the saved one, and go back.
        fill(driver, steps, name="New user by email")
        submit(driver, steps, "save-view")
        steps.shot("audit-view-saved")
        assert "View saved" in find(driver, By.ID, "notice", steps).text, steps.context()
        saved = driver.find_element(By.CSS_SELECTOR, "#saved-filters li a")
        assert saved.text == "New user by email", steps.context()
        submit(driver, steps, "fast-role-changes")
        saved_link = find(driver, By.CSS_SELECTOR, "#saved-filters li a", steps)
        saved_link.click()
        wait_for(driver, lambda d: d.find_element(By.ID, "q").get_attribute("value") == "USER.created " + new_email,
                 "the saved view's search", steps)
        found = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#events tbody tr")]
        assert len(found) == 1 and new_email in found[0], f"{found}\n{steps.context()}"
        driver.back()
        wait_for(driver, lambda d: "action=role" in d.current_url and d.find_element(By.ID, "q").get_attribute("value") == "",
                 "the role changes view after the back button", steps)

        # 4d. Rename the saved view from its edit form, which holds its search.
        find(driver, By.CSS_SELECTOR, "#saved-filters a[id^='edit-saved-']", steps).click()
        wait_for(driver, lambda d: urlparse(d.current_url).path.endswith("/edit"), "the saved view's edit form", steps)
        assert find(driver, By.ID, "name", steps).get_attribute("value") == "New user by email", steps.context()
        assert find(driver, By.ID, "q", steps).get_attribute("value") == "USER.created " + new_email, steps.context()
        fill(driver, steps, name="New users by email")
        submit(driver, steps, "save")
        steps.shot("audit-view-renamed")
        assert "Changes saved" in find(driver, By.ID, "notice", steps).text, steps.context()
        assert find(driver, By.CSS_SELECTOR, "#saved-filters li a", steps).text == "New users by email", steps.context()

        # 5. A fresh browser session signs in through the sign-in form (the setup step may
        #    have signed in by itself, so this form would otherwise go untested).
        driver.delete_all_cookies()
        driver.get(f"{server.base_url}/console/users")
        steps.shot("signed-out")
        assert on_signin_page(driver), f"/console/users without a session did not ask to sign in\n{steps.context()}"
        if "/console/signin" not in urlparse(driver.current_url).path:
            driver.get(f"{server.base_url}/console/signin")
        fill(driver, steps, organization=slug, email=admin, password=PASSWORD)
        submit(driver, steps, "signin")
        steps.shot("after-second-signin")
        assert not on_signin_page(driver), f"signing in with the new password failed\n{steps.context()}"

        violations = csp_violations(driver)
        assert not violations, "the console violates its own Content-Security-Policy:\n" + "\n".join(violations)

        # The browser's view of the session cookie.
        cookies = driver.get_cookies()
        assert cookies, "no cookie after signing in"
        for cookie in cookies:
            assert cookie.get("httpOnly") is True, f"cookie without HttpOnly: {cookie}"
            assert cookie.get("sameSite") in ("Strict", "Lax"), f"cookie without SameSite Strict/Lax: {cookie}"
    except Exception:
        steps.shot("failure")
        raise
    finally:
        driver.quit()


# --- plain HTTP: headers and cookies ---------------------------------------------------


class FormParser(HTMLParser):
    """Collects forms with their action, method and named fields (hidden ones included,
    which is where a CSRF token lives in a console without inline script)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"action": attrs.get("action") or "", "method": (attrs.get("method") or "get").lower(),
                          "fields": {}}
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select") and attrs.get("name"):
            if attrs.get("type") in ("checkbox", "radio") and "checked" not in attrs:
                return
            self._form["fields"][attrs["name"]] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None


def form_with(html: str, field: str) -> dict:
    parser = FormParser()
    parser.feed(html)
    for form in parser.forms:
        if field in form["fields"]:
            return form
    raise AssertionError(f"no form with a field {field!r} in:\n{tail(html, 40)}")


def set_cookie_headers(response: requests.Response) -> list[str]:
    return list(response.raw.headers.getlist("Set-Cookie"))


def cookie_attributes(header: str) -> tuple[str, str, dict[str, str]]:
    parts = [p.strip() for p in header.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for part in parts[1:]:
        key, _, val = part.partition("=")
        attrs[key.lower()] = val
    return name, value, attrs


def parse_csp(header: str) -> dict[str, list[str]]:
    directives = {}
    for directive in header.split(";"):
        tokens = directive.split()
        if tokens:
            directives[tokens[0].lower()] = tokens[1:]
    return directives


def assert_strict_csp(response: requests.Response) -> None:
    csp = response.headers.get("Content-Security-Policy")
    assert csp, f"{response.url}: no Content-Security-Policy header ({dict(response.headers)})"
    assert "'unsafe-inline'" not in csp, f"{response.url}: CSP allows 'unsafe-inline': {csp}"
    directives = parse_csp(csp)
    # Browsers fall back to default-src when script-src is absent, so that is the policy
    # for scripts; with neither, scripts are unrestricted.
    scripts = directives.get("script-src", directives.get("default-src"))
    assert scripts is not None, f"{response.url}: CSP restricts no scripts (no script-src, no default-src): {csp}"
    for loose in ("'unsafe-eval'", "*", "data:", "http:", "https:"):
        assert loose not in scripts, f"{response.url}: the script policy allows {loose}: {csp}"


def test_console_headers_and_session_cookie(console):
    server, org, admin = console
    slug = org["organization"]["slug"]
    http = requests.Session()
    issued: list[str] = []

    setup_page = http.get(org["setupLink"], timeout=10)
    assert setup_page.status_code == 200, f"GET setup link -> {setup_page.status_code}"
    assert_strict_csp(setup_page)
    issued += set_cookie_headers(setup_page)

    form = form_with(setup_page.text, "password_confirm")
    fields = dict(form["fields"], password=PASSWORD, password_confirm=PASSWORD)
    answer = http.post(urljoin(setup_page.url, form["action"]), data=fields, allow_redirects=False, timeout=10)
    assert answer.status_code in (302, 303), f"setup POST -> {answer.status_code} {answer.text[:500]}"
    issued += set_cookie_headers(answer)

    signin_page = http.get(f"{server.base_url}/console/signin", timeout=10)
    assert signin_page.status_code == 200, f"GET /console/signin -> {signin_page.status_code}"
    assert_strict_csp(signin_page)
    issued += set_cookie_headers(signin_page)

    form = form_with(signin_page.text, "organization")
    fields = dict(form["fields"], organization=slug, email=admin, password=PASSWORD)
    signed_in = http.post(urljoin(signin_page.url, form["action"]), data=fields, allow_redirects=False, timeout=10)
    assert signed_in.status_code in (302, 303), f"sign-in POST -> {signed_in.status_code} {signed_in.text[:500]}"
    session_cookies = set_cookie_headers(signed_in)
    assert session_cookies, "signing in set no cookie"
    issued += session_cookies

    for header in issued:
        name, value, attrs = cookie_attributes(header)
        if not value:
            continue  # a deletion
        assert "httponly" in attrs, f"cookie {name} without HttpOnly: {header}"
        assert attrs.get("samesite", "").lower() in ("strict", "lax"), f"cookie {name} without SameSite: {header}"

    users = http.get(f"{server.base_url}/console/users", timeout=10)
    assert users.status_code == 200, f"GET /console/users signed in -> {users.status_code}"
    assert "/console/signin" not in users.url, "the session cookie does not sign the admin in"
    assert_strict_csp(users)
    assert re.search(r"<form\b", users.text), "the users page has no form"
