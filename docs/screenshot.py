"""Make docs/images/demo-home.png: the demo shop's home page for a visitor who viewed two products.

Run it against a demo shop being served (``manage.py demo``), with Chromium and Playwright
installed (see docs/development.md): ``.venv/bin/python docs/screenshot.py [BASE_URL]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image  # Pillow comes with django-oscar in the development requirements
from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# A normal browser's user agent: the shop does not track (so does not personalize for) bots.
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
OUTPUT = Path(__file__).resolve().parent / "images" / "demo-home.png"


def main(base: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 760}, user_agent=USER_AGENT)
        page.goto(base + "/")
        page.get_by_role("button", name="Accept").click()
        for link in page.locator("a[href^='/product/']").all()[:2]:
            page.goto(base + link.get_attribute("href"))
        page.goto(base + "/")
        OUTPUT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(OUTPUT))
        browser.close()
    # 64 colours keep the picture readable at a third of the size: the README stays light.
    Image.open(OUTPUT).convert("RGB").quantize(colors=64).save(OUTPUT, optimize=True)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000")
