#!/usr/bin/env python3
"""Writes a generated table into a document, between its markers:

    <!-- generated: NAME -->
    ...replaced...
    <!-- end: NAME -->

usage: scripts/put_table.py DOC NAME TABLE_FILE COMMAND
The text put there says which command wrote it and when, then the table as the file has it.
Fails, changing nothing, when the document lacks the markers or the table file is empty.
"""
import datetime
import pathlib
import re
import sys


def main() -> int:
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    doc, name, table_file, command = sys.argv[1:]
    text = pathlib.Path(doc).read_text(encoding="utf-8")
    table = pathlib.Path(table_file).read_text(encoding="utf-8").strip()
    if not table:
        print(f"put_table: {table_file} is empty; {doc} unchanged", file=sys.stderr)
        return 1
    begin, end = f"<!-- generated: {name} -->", f"<!-- end: {name} -->"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        print(f"put_table: {doc} has no '{begin}' ... '{end}'; unchanged", file=sys.stderr)
        return 1
    today = datetime.date.today().isoformat()
    block = f"{begin}\nWritten by `{command}` on {today}:\n\n{table}\n{end}"
    pathlib.Path(doc).write_text(pattern.sub(lambda _: block, text, count=1), encoding="utf-8")
    print(f"put_table: {doc}: {name} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
