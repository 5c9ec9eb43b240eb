"""Make the README's pictures from a demo shop being served (``manage.py demo``):

- ``docs/images/demo-home.png``: the home page, its promotion cards and picks, for a visitor who
  viewed two products;
- ``docs/images/experiment-results.png``: the admin's results page of the demo's experiment
  (personalized promotions or not, on the home page), signed in as the demo's staff user: its
  password is the one ``manage.py demo`` printed, given with ``--password`` or
  ``PROMOTIONS_DEMO_PASSWORD``.

Needs Chromium and Playwright (see docs/development.md)::

    .venv/bin/python docs/screenshot.py --password PASSWORD [BASE_URL]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from PIL import Image  # Pillow comes with django-oscar in the development requirements
from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# A normal browser's user agent: the shop does not track (so does not personalize for) bots.
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
IMAGES = Path(__file__).resolve().parent / "images"
HOME, RESULTS = IMAGES / "demo-home.png", IMAGES / "experiment-results.png"
MAX_BYTES = 200_000  # the README stays light


def shrink(path: Path) -> int:
    """Fewer colours, then a smaller picture while it is still too heavy; returns its size in bytes."""
    image = Image.open(path).convert("RGB")
    while True:
        image.quantize(colors=64).save(path, optimize=True)
        size = path.stat().st_size
        if size <= MAX_BYTES:
            return size
        image = image.resize((image.width * 9 // 10, image.height * 9 // 10), Image.LANCZOS)


def home(page, base: str) -> None:
    page.goto(base + "/")
    page.get_by_role("button", name="Accept").click()
    for link in page.locator("a[href^='/product/']").all()[:2]:
        page.goto(base + link.get_attribute("href"))
    page.goto(base + "/")
    page.screenshot(path=str(HOME))


def results(page, base: str, username: str, password: str, experiment: str) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    # The admin's navigation sidebar closed, as its toggle would leave it: the page gets the width.
    page.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
    page.goto(f"{base}/admin/login/?next=/admin/promotions/experiment/%3Fq%3D{experiment}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    link = page.locator("a[href$='/results/']").first
    link.wait_for()
    link.click()
    page.wait_for_selector("tr.variant-row")
    page.screenshot(path=str(RESULTS), full_page=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="admin", help="the demo's staff user (default: admin)")
    parser.add_argument("--password", default=os.environ.get("PROMOTIONS_DEMO_PASSWORD"))
    parser.add_argument(
        "--experiment", default="demo-personalized-promotions", help="key of the experiment (default: %(default)s)"
    )
    options = parser.parse_args()
    if not options.password:
        sys.exit("Give the staff password (--password or PROMOTIONS_DEMO_PASSWORD): manage.py demo printed it.")
    IMAGES.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 760}, user_agent=USER_AGENT)
        home(page, options.base)
        results(page, options.base, options.username, options.password, options.experiment)
        browser.close()
    for path in (HOME, RESULTS):
        print(f"{path.relative_to(IMAGES.parent.parent)}: {shrink(path):,} bytes")


if __name__ == "__main__":
    main()
