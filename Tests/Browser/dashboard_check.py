#!/usr/bin/env python3
"""Opens a running worker's dashboard in headless Chromium (Debian's chromium + chromium-driver,
driven through selenium), checks the expected figures of a region's row, signals the test to
produce an update, and checks that the update appears without a reload. Saves screenshots.

Exit 0 and one JSON line on success; exit 1 with the reason on standard error otherwise."""
import argparse
import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


def wait_for(description, condition, limit):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:  # the content is swapped while we read it: look again
            pass
        time.sleep(0.05)
    fail(f"not seen within {limit} s: {description}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--row", required=True, help="data-scope of the report row to check")
    parser.add_argument("--expect", action="append", default=[], help="text the row shows at first")
    parser.add_argument("--after", required=True, help="text the row shows once the update is committed")
    parser.add_argument("--signal", required=True, help="file written when the page is ready for the update")
    parser.add_argument("--out", required=True, help="folder for the screenshots")
    args = parser.parse_args()

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--lang=vi-VN",
                 "--window-size=1400,1000"]:
        options.add_argument(flag)
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.get(args.url)
        row_text = lambda: driver.find_element(By.CSS_SELECTOR, f'tr[data-scope="{args.row}"]').text
        for text in args.expect:
            wait_for(f"{text!r} in the {args.row} row", lambda: text in row_text(), 20)
        wait_for("the live connection", lambda: "Trực tiếp" in driver.find_element(By.ID, "live").text, 20)
        headers = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "table.report thead th")]
        if "Khu vực" not in headers:
            fail(f"the report table has no 'Khu vực' header: {headers}")
        # A reload would drop this marker.
        driver.execute_script("window.__noReload = 'kept';")
        os.makedirs(args.out, exist_ok=True)
        driver.save_screenshot(os.path.join(args.out, "dashboard-before.png"))
        with open(args.signal, "w") as f:
            f.write("ready\n")
        start = time.monotonic()
        wait_for(f"{args.after!r} in the {args.row} row after the update", lambda: args.after in row_text(), 30)
        seconds = time.monotonic() - start
        if driver.execute_script("return window.__noReload;") != "kept":
            fail("the page was reloaded to show the update")
        height = driver.execute_script("return document.documentElement.scrollHeight;")
        driver.set_window_size(1400, max(1000, height + 40))
        driver.save_screenshot(os.path.join(args.out, "dashboard.png"))
        # The same page on a phone-sized window.
        driver.set_window_size(390, 844)
        time.sleep(0.3)
        driver.save_screenshot(os.path.join(args.out, "dashboard-phone.png"))
        region = args.url.rstrip("/") + "/khu-vuc/" + args.row
        driver.set_window_size(1400, 1000)
        driver.get(region)
        wait_for("the region page's province table", lambda: driver.find_elements(By.CSS_SELECTOR, "table.provinces tbody tr"), 20)
        height = driver.execute_script("return document.documentElement.scrollHeight;")
        driver.set_window_size(1400, max(1000, height + 40))
        driver.save_screenshot(os.path.join(args.out, "region.png"))
        print(json.dumps({"update_seen_after_seconds": round(seconds, 3), "screenshots": args.out}))
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
