#!/usr/bin/env python3
"""Checks that real feed readers can use the blog's feeds.

    python3 tests/feedcheck.py URL_OR_FILE...

Atom and RSS go through feedparser (pinned in tests/requirements.txt), the parser most
readers and aggregators build on; JSON Feed (a `.json` file or URL, or a URL served as JSON)
is checked against the 1.1 spec's required fields. A feed fails if the parser flags it as
malformed (`bozo`), if an entry lacks a title, link or content, or if any link, id or URL in
the content is not absolute: readers show entries away from the site, with nothing to
resolve a relative URL against. Exit status 1 if any feed fails, 2 on bad usage.
"""

import json
import re
import sys
import urllib.error
import urllib.request
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import feedparser

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
# Schemes a reader can follow without a base URL. Anything else with a scheme is fine too;
# what must not appear is a URL with no scheme at all.
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class FeedError(Exception):
    pass


def is_absolute_http(url):
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class UrlCollector(HTMLParser):
    """Collects href and src values from an HTML fragment."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.urls.append((tag, name, value))

    handle_startendtag = handle_starttag


def relative_urls_in(html):
    collector = UrlCollector()
    collector.feed(html or "")
    collector.close()
    return [f"<{tag} {name}={value!r}>" for tag, name, value in collector.urls if not SCHEME.match(value.strip())]


def load(source):
    """Returns (bytes, content type or None) for a URL or a file path."""
    if urlsplit(source).scheme in ("http", "https"):
        request = urllib.request.Request(source, headers={"User-Agent": "blog-feedcheck/1"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.read(), response.headers.get("Content-Type")
        except urllib.error.HTTPError as error:
            raise FeedError(f"HTTP {error.code} {error.reason}") from None
        except urllib.error.URLError as error:
            raise FeedError(f"cannot fetch: {error.reason}") from None
    path = Path(source)
    if not path.is_file():
        # feedparser would happily parse the path string itself as a feed; refuse instead.
        raise FeedError("no such file")
    return path.read_bytes(), None


def is_json_feed(source, content_type):
    if urlsplit(source).path.endswith(".json"):
        return True
    return bool(content_type) and "json" in content_type.split(";")[0]


def check_xml_feed(data, content_type):
    headers = {"content-type": content_type} if content_type else {}
    # Keep relative URLs as written: resolving them here would hide exactly what we look for.
    parsed = feedparser.parse(data, response_headers=headers, resolve_relative_uris=False)
    if parsed.bozo:
        exception = parsed.get("bozo_exception")
        raise FeedError(f"feedparser bozo: {type(exception).__name__}: {exception}")
    if not parsed.version:
        raise FeedError("not recognized as an Atom or RSS feed")
    feed = parsed.feed
    problems = []
    if not feed.get("title"):
        problems.append("the feed has no title")
    if not is_absolute_http(feed.get("link")):
        problems.append(f"the feed link {feed.get('link')!r} is not absolute")
    for link in feed.get("links", []):
        if not is_absolute_http(link.get("href")):
            problems.append(f"the feed's {link.get('rel')} link {link.get('href')!r} is not absolute")
    if not any(link.get("rel") == "self" for link in feed.get("links", [])):
        problems.append("the feed has no rel=self link")
    for n, entry in enumerate(parsed.entries, 1):
        name = f"entry {n} ({entry.get('title', '')[:40]!r})"
        if not entry.get("title"):
            problems.append(f"entry {n} has no title")
        if not entry.get("link"):
            problems.append(f"{name} has no link")
        elif not is_absolute_http(entry.link):
            problems.append(f"{name} link {entry.link!r} is not absolute")
        if entry.get("id") and not is_absolute_http(entry.id):
            problems.append(f"{name} id {entry.id!r} is not an absolute URL")
        for link in entry.get("links", []):
            if not is_absolute_http(link.get("href")):
                problems.append(f"{name} {link.get('rel')} link {link.get('href')!r} is not absolute")
        contents = [c for c in entry.get("content", []) if c.get("value", "").strip()]
        if not contents:
            problems.append(f"{name} has no full content")
        for content in contents:
            for url in relative_urls_in(content.value):
                problems.append(f"{name} content has a relative URL: {url}")
        if not entry.get("published_parsed") and not entry.get("updated_parsed"):
            problems.append(f"{name} has no date a reader can parse")
    if problems:
        raise FeedError("; ".join(problems))
    return f"{parsed.version}, {len(parsed.entries)} entries"


def check_date(value, where, problems):
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (TypeError, ValueError, AttributeError):
        problems.append(f"{where} {value!r} is not an RFC 3339 date")


def check_json_feed(data):
    try:
        feed = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FeedError(f"not JSON: {error}") from None
    if not isinstance(feed, dict):
        raise FeedError("the top level is not an object")
    problems = []
    if feed.get("version") != JSON_FEED_VERSION:
        problems.append(f"version is {feed.get('version')!r}, not {JSON_FEED_VERSION!r}")
    if not isinstance(feed.get("title"), str) or not feed["title"]:
        problems.append("the feed has no title")
    for key in ("home_page_url", "feed_url"):
        if not is_absolute_http(feed.get(key)):
            problems.append(f"{key} {feed.get(key)!r} is not absolute")
    authors = feed.get("authors", [])
    if not isinstance(authors, list) or not all(isinstance(a, dict) and a.get("name") for a in authors):
        problems.append("authors is not a list of objects with names")
    items = feed.get("items")
    if not isinstance(items, list):
        raise FeedError("; ".join(problems + ["items is missing or not an array"]))
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            problems.append(f"item {n} is not an object")
            continue
        name = f"item {n} ({str(item.get('title', ''))[:40]!r})"
        if not isinstance(item.get("id"), str) or not item["id"]:
            problems.append(f"{name} has no string id")
        if not item.get("title"):
            problems.append(f"{name} has no title")
        if not is_absolute_http(item.get("url")):
            problems.append(f"{name} url {item.get('url')!r} is not absolute")
        if not isinstance(item.get("content_html"), str) or not item["content_html"].strip():
            problems.append(f"{name} has no content_html")
        else:
            for url in relative_urls_in(item["content_html"]):
                problems.append(f"{name} content has a relative URL: {url}")
        for key in ("date_published", "date_modified"):
            if key in item:
                check_date(item[key], f"{name} {key}", problems)
        tags = item.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            problems.append(f"{name} tags is not a list of strings")
    if problems:
        raise FeedError("; ".join(problems))
    return f"JSON Feed 1.1, {len(items)} items"


def check(source):
    data, content_type = load(source)
    if is_json_feed(source, content_type):
        return check_json_feed(data)
    return check_xml_feed(data, content_type)


def main(argv):
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    failed = 0
    for source in argv:
        try:
            summary = check(source)
        except FeedError as error:
            failed += 1
            print(f"FAIL {source}: {error}")
        else:
            print(f"ok   {source}: {summary}")
    print(f"feedcheck (feedparser {feedparser.__version__}): {len(argv) - failed} of {len(argv)} feeds ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
