"""Reads .codecarbon.config files with Python CodeCarbon's own reader, for config-reading.test.ts.

stdin: {"cases": [{"name", "text"}], "kinds": {key: "bool" | "float" | "int" | "str"}}
stdout (last line): {"results": {name: {"raw": {key: value}} | {"error": "ExceptionType: message"}}}

`raw` is what codecarbon.core.config.get_hierarchical_config() returns (configparser, interpolation
applied). `meaning` is what EmissionsTracker._set_from_conf makes of each value for its type
(codecarbon/emissions_tracker.py: bool is `str(value).lower() == "true"`, float/int call the type
and give None when that fails), so the test can compare meanings too.
"""
import json
import os
import sys
import tempfile

from codecarbon.core.config import get_hierarchical_config


def meaning(value, kind):
    if kind == "bool":
        return str(value).lower() == "true"
    if kind in ("float", "int"):
        try:
            return (float if kind == "float" else int)(value)
        except (ValueError, TypeError):
            return None
    return value


def main():
    request = json.load(sys.stdin)
    for name in list(os.environ):
        if name.lower().startswith("codecarbon_"):
            del os.environ[name]
    results = {}
    with tempfile.TemporaryDirectory() as root:
        for index, case in enumerate(request["cases"]):
            home = os.path.join(root, f"home{index}")
            work = os.path.join(root, f"work{index}")
            os.makedirs(home)
            os.makedirs(work)
            with open(os.path.join(work, ".codecarbon.config"), "w", encoding="utf-8", newline="") as f:
                f.write(case["text"])
            os.environ["HOME"] = home
            os.chdir(work)
            try:
                raw = get_hierarchical_config()
                kinds = request["kinds"]
                results[case["name"]] = {
                    "raw": raw,
                    "meaning": {k: meaning(v, kinds[k]) for k, v in raw.items() if k in kinds},
                }
            except Exception as error:  # every failure is an answer: CodeCarbon would stop on it
                results[case["name"]] = {"error": f"{type(error).__name__}: {error}"}
    print(json.dumps({"results": results}))


main()
