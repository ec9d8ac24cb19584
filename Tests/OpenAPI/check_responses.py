#!/usr/bin/env python3
"""Checks the OpenAPI document (openapi-spec-validator) and real responses against it.

Usage: check_responses.py SPEC.yaml SAMPLES.json
SAMPLES.json: [{"method": "get", "path": "/v1/summaries?year=2022", "status": 200,
                "content_type": "application/json", "body": "..."}]
Prints one line per problem and exits 1 when there is any."""
import json
import re
import sys

import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate


def operation_for(spec, method, path):
    bare = path.split("?", 1)[0]
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, bare) and method in item:
            return template, item[method]
    return None, None


def main():
    spec = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
    validate(spec)
    samples = json.load(open(sys.argv[2], encoding="utf-8"))
    problems = []
    for s in samples:
        where = f'{s["method"].upper()} {s["path"]} → {s["status"]}'
        template, op = operation_for(spec, s["method"], s["path"])
        if op is None:
            problems.append(f"{where}: no operation in the document")
            continue
        response = op["responses"].get(str(s["status"]))
        if response is None:
            problems.append(f"{where}: status not documented for {template}")
            continue
        if "$ref" in response:
            response = spec["components"]["responses"][response["$ref"].split("/")[-1]]
        media = s["content_type"].split(";")[0].strip()
        content = response.get("content", {})
        if media not in content:
            problems.append(f"{where}: content type {media} not documented (documented: {sorted(content)})")
            continue
        if media != "application/json":
            continue
        schema = dict(content[media]["schema"])
        schema["components"] = spec["components"]  # resolves "#/components/..." from this root
        body = json.loads(s["body"])
        for error in Draft202012Validator(schema).iter_errors(body):
            problems.append(f"{where}: {error.json_path}: {error.message}")
    for p in problems:
        print(p)
    print(f"{len(samples)} responses checked, {len(problems)} problems")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
