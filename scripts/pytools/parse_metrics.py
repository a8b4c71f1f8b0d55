"""Parses a Prometheus text-format file with prometheus_client's own parser and prints every
sample as JSON lines {"name", "labels", "value"}; a file the parser refuses exits non-zero.

Usage: parse_metrics.py FILE
"""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            print(json.dumps({"family": family.name, "type": family.type, "name": sample.name,
                              "labels": sample.labels, "value": sample.value}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
