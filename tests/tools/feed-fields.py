#!/usr/bin/env python3
"""Reads an Atom or RSS feed on stdin with a strict XML parser and prints its fields as JSON:
{"title": ..., "entries": [{"link", "title", "summary", "categories", "content"}]}.
Text comes out decoded exactly once, as an XML parser gives it; a feed that is not
well-formed XML fails with the parser's error."""

import json
import sys
import xml.etree.ElementTree as ET

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


def text(el):
    return None if el is None else (el.text or "")


def main():
    root = ET.fromstring(sys.stdin.buffer.read())
    if root.tag == ATOM + "feed":
        feed = {"kind": "atom", "title": text(root.find(ATOM + "title")), "entries": []}
        for e in root.findall(ATOM + "entry"):
            link = e.find(ATOM + "link[@rel='alternate']")
            feed["entries"].append({
                "link": None if link is None else link.get("href"),
                "title": text(e.find(ATOM + "title")),
                "title_type": (e.find(ATOM + "title").get("type") if e.find(ATOM + "title") is not None else None),
                "summary": text(e.find(ATOM + "summary")),
                "categories": [c.get("term") for c in e.findall(ATOM + "category")],
                "content": text(e.find(ATOM + "content")),
            })
    elif root.tag == "rss":
        channel = root.find("channel")
        feed = {"kind": "rss", "title": text(channel.find("title")), "entries": []}
        for item in channel.findall("item"):
            feed["entries"].append({
                "link": text(item.find("link")),
                "title": text(item.find("title")),
                "summary": text(item.find("description")),
                "categories": [text(c) for c in item.findall("category")],
                "content": text(item.find(CONTENT)),
            })
    else:
        sys.exit(f"not a feed: <{root.tag}>")
    json.dump(feed, sys.stdout)


main()
