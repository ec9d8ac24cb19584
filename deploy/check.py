#!/usr/bin/env python3
"""Offline checks of deploy/ (no Docker engine, no cluster needed).

    python3 deploy/check.py --metrics METRICS.txt --config-reference CONFIG.json

--metrics: a captured /metrics output of a worker; every metric the Grafana dashboard and the
  Prometheus alert rules use must appear in it (with the labels they group or filter by).
--config-reference: the worker's own configuration reference, JSON:
  {"group_id": "...", "topics": {"input": ..., "summaries": ..., "alerts": ..., "rejected": ...,
   "sequenced": ..., "changelog": ...}, "partitions": 6, "internal_partitions": 1,
   "env": ["KHUYENCONG_BROKERS", ..., "KHUYENCONG_KAFKA_*"]}   (env entries may be globs)
  The compose file, the Kubernetes manifests and the Dockerfile must agree with it.
Without one of these files the checks that need it are reported as SKIP, never as PASS.

Prints one line per check (PASS / FAIL / SKIP) and exits 1 if any check failed.
Needs PyYAML and kubernetes-validate (which bundles the Kubernetes JSON schemas).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
REPO = DEPLOY.parent
RESOURCES = REPO / "Sources" / "Domain" / "Resources"
CONTRACT_ROLES = ("input", "summaries", "alerts", "rejected")
INTERNAL_ROLES = ("sequenced", "changelog")
TOPIC_ENV = {
    "input": "KHUYENCONG_INPUT_TOPIC",
    "summaries": "KHUYENCONG_SUMMARIES_TOPIC",
    "alerts": "KHUYENCONG_ALERTS_TOPIC",
    "rejected": "KHUYENCONG_REJECTED_TOPIC",
}
DEFAULT_TRANSACTION_TIMEOUT_MS = 60000  # what the worker sets unless told otherwise
STRIMZI_API = "kafka.strimzi.io/v1"  # Strimzi 1.0 removed v1beta2
OBSOLETE_STRIMZI_ANNOTATIONS = ("strimzi.io/kraft", "strimzi.io/node-pools")
CRD_GROUPS = ("kafka.strimzi.io/", "monitoring.coreos.com/")
ACL_OPERATIONS = {
    "Read", "Write", "Create", "Delete", "Alter", "Describe", "ClusterAction",
    "AlterConfigs", "DescribeConfigs", "IdempotentWrite", "All",
}
ALERT_SERIES = {"khuyencong_alert_active", "khuyencong_alert_execution_rate_pct", "khuyencong_alert_threshold_pct",
                "khuyencong_alert_period_month", "khuyencong_scope_info"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}


class Report:
    def __init__(self) -> None:
        self.failures = 0

    def result(self, name: str, problems: list[str], ok_detail: str) -> None:
        if problems:
            self.failures += 1
            print(f"FAIL  {name}: {problems[0]}")
            for p in problems[1:]:
                print(f"      {name}: {p}")
        else:
            print(f"PASS  {name}: {ok_detail}")

    @staticmethod
    def skip(name: str, why: str) -> None:
        print(f"SKIP  {name}: {why}")


def rel(path: Path) -> str:
    return str(path.relative_to(REPO))


def load_yaml_docs(path: Path) -> list:
    with path.open(encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


# ---------------------------------------------------------------- parsing every file

def check_parsing(report: Report) -> dict[Path, list]:
    docs: dict[Path, list] = {}
    problems = []
    for path in sorted(DEPLOY.rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        try:
            if path.suffix == ".json":
                docs[path] = [json.loads(path.read_text(encoding="utf-8"))]
            else:
                docs[path] = load_yaml_docs(path)
        except (yaml.YAMLError, json.JSONDecodeError, UnicodeDecodeError) as e:
            problems.append(f"{rel(path)} does not parse: {e}")
    n_yaml = sum(1 for p in docs if p.suffix != ".json")
    report.result("parse", problems, f"{n_yaml} YAML and {len(docs) - n_yaml} JSON files parse")
    return docs


# ---------------------------------------------------------------- Kubernetes

def k8s_objects(docs: dict[Path, list]) -> list[tuple[Path, dict]]:
    """Every object under k8s/ (subdirectories included) except kustomizations and the
    Alertmanager configuration copy."""
    k8s_dir = DEPLOY / "k8s"
    return [
        (p, d) for p, ds in docs.items()
        if k8s_dir in p.parents and p.suffix == ".yaml" and p.name != "kustomization.yaml"
        for d in ds if isinstance(d, dict) and "kind" in d
    ]


def check_k8s_schemas(report: Report, objects: list[tuple[Path, dict]], version: str) -> None:
    try:
        import kubernetes_validate
        from kubernetes_validate.utils import SchemaNotFoundError, ValidationError
    except ImportError:
        report.result("k8s-schema", ["kubernetes-validate is not installed (pip install kubernetes-validate)"], "")
        return
    problems, passed, skipped = [], 0, []
    for path, obj in objects:
        label = f"{rel(path)} {obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        if str(obj.get("apiVersion", "")).startswith(CRD_GROUPS):
            skipped.append(label)  # CRDs are not in kubernetes-validate: checked by strimzi-structure / monitoring
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
            passed += 1
        except ValidationError as e:
            path_in_obj = ".".join(str(x) for x in e.path)
            problems.append(f"{label}: {path_in_obj}: {e.message}")
        except SchemaNotFoundError as e:
            problems.append(f"{label}: no schema ({e.message}); an unexpected kind")
    report.result("k8s-schema", problems, f"{passed} objects valid against Kubernetes {version} (strict)")
    if skipped:
        report.skip("k8s-schema", f"{len(skipped)} Strimzi and Prometheus Operator objects (CRDs are not in "
                                  "kubernetes-validate's schemas); checked by strimzi-structure and monitoring")


def check_acl(acl: object, where: str) -> list[str]:
    problems = []
    if not isinstance(acl, dict) or not isinstance(acl.get("resource"), dict):
        return [f"{where}: an ACL needs a resource map"]
    res = acl["resource"]
    if res.get("type") not in ("topic", "group", "cluster", "transactionalId"):
        problems.append(f"{where}: resource.type {res.get('type')!r} is not topic|group|cluster|transactionalId")
    if res.get("type") != "cluster" and not res.get("name"):
        problems.append(f"{where}: resource.name is required for {res.get('type')}")
    if res.get("patternType", "literal") not in ("literal", "prefix"):
        problems.append(f"{where}: patternType must be literal or prefix")
    ops = acl.get("operations")
    if not isinstance(ops, list) or not ops or not set(ops) <= ACL_OPERATIONS:
        problems.append(f"{where}: operations must be a non-empty list of {sorted(ACL_OPERATIONS)}")
    return problems


def check_strimzi(report: Report, objects: list[tuple[Path, dict]]) -> None:
    problems, count = [], 0
    for path, obj in objects:
        if not str(obj.get("apiVersion", "")).startswith("kafka.strimzi.io/"):
            continue
        count += 1
        name = (obj.get("metadata") or {}).get("name")
        where = f"{rel(path)} {obj.get('kind')}/{name}"
        if obj.get("apiVersion") != STRIMZI_API:
            problems.append(f"{where}: apiVersion must be {STRIMZI_API}")
        if not name or not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name) or len(name) > 253:
            problems.append(f"{where}: metadata.name must be a DNS subdomain name")
        for annotation in OBSOLETE_STRIMZI_ANNOTATIONS:
            if annotation in ((obj.get("metadata") or {}).get("annotations") or {}):
                problems.append(f"{where}: drop the obsolete annotation {annotation} (Strimzi 1.0)")
        if not (obj.get("metadata") or {}).get("labels", {}).get("strimzi.io/cluster"):
            problems.append(f"{where}: metadata.labels.strimzi.io/cluster names the Kafka cluster")
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            problems.append(f"{where}: spec is required")
            continue
        if obj.get("kind") == "KafkaTopic":
            for field in ("partitions", "replicas"):
                if not isinstance(spec.get(field), int) or spec[field] < 1:
                    problems.append(f"{where}: spec.{field} must be a positive integer")
            if not isinstance(spec.get("config", {}), dict):
                problems.append(f"{where}: spec.config must be a map")
            unknown = set(spec) - {"topicName", "partitions", "replicas", "config"}
            if unknown:
                problems.append(f"{where}: unknown spec fields {sorted(unknown)}")
        elif obj.get("kind") == "KafkaUser":
            if (spec.get("authentication") or {}).get("type") not in ("scram-sha-512", "tls", "tls-external"):
                problems.append(f"{where}: spec.authentication.type must be scram-sha-512, tls or tls-external")
            authz = spec.get("authorization") or {}
            if authz.get("type") != "simple":
                problems.append(f"{where}: spec.authorization.type must be simple")
            for i, acl in enumerate(authz.get("acls") or []):
                problems += check_acl(acl, f"{where} acls[{i}]")
            unknown = set(spec) - {"authentication", "authorization", "quotas", "template"}
            if unknown:
                problems.append(f"{where}: unknown spec fields {sorted(unknown)}")
        else:
            problems.append(f"{where}: kind {obj.get('kind')} is not expected here")
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for old in ("kafka.strimzi.io/v1beta2",) + OBSOLETE_STRIMZI_ANNOTATIONS:
        if old in readme:
            problems.append(f"deploy/README.md still shows {old}")
    report.result("strimzi-structure", problems, f"{count} KafkaTopic/KafkaUser objects well-formed ({STRIMZI_API})")


def check_kustomization(report: Report, docs: dict[Path, list]) -> None:
    """Each kustomization under k8s/ lists every manifest of its directory (and its
    subdirectories that have a kustomization); generated config files equal their sources."""
    problems, compared, listed_total = [], 0, 0
    sources = {"alertmanager.yml": DEPLOY / "alertmanager" / "alertmanager.yml"}
    for path in sorted((DEPLOY / "k8s").rglob("kustomization.yaml")):
        k8s_dir = path.parent
        kust = (docs.get(path) or [{}])[0]
        if kust.get("apiVersion") != "kustomize.config.k8s.io/v1beta1" or kust.get("kind") != "Kustomization":
            problems.append(f"{rel(path)} must be a kustomize.config.k8s.io/v1beta1 Kustomization")
        listed = set(kust.get("resources") or [])
        listed_total += len(listed)
        present = {p.name for p in k8s_dir.glob("*.yaml") if p.name != "kustomization.yaml"}
        present |= {d.name for d in k8s_dir.iterdir() if d.is_dir() and (d / "kustomization.yaml").is_file()
                    and d.name != "monitoring"}
        for missing in sorted(listed - present):
            problems.append(f"{rel(path)} lists {missing}, which does not exist")
        for unlisted in sorted(present - listed):
            problems.append(f"{rel(k8s_dir / unlisted)} is not listed in {rel(path)}")
        for gen in kust.get("configMapGenerator") or []:
            for entry in gen.get("files") or []:
                file = k8s_dir / entry.split("=")[-1]
                if not file.is_file():
                    problems.append(f"configMapGenerator {gen.get('name')}: {entry} does not exist")
                    continue
                source = sources.get(file.name, RESOURCES / file.name)
                if source.is_file():
                    compared += 1
                    if source.read_bytes() != file.read_bytes():
                        problems.append(f"{rel(file)} differs from {rel(source)}: copy it again "
                                        "(replace defaults in an overlay, not in the base)")
                else:
                    report.skip("kustomization", f"{rel(source)} is not in this tree; {rel(file)} not compared")
    report.result("kustomization", problems,
                  f"{listed_total} resources listed and present; {compared} config files equal their sources")


def env_names_of(container: dict) -> list[str]:
    return [e["name"] for e in container.get("env") or []]


def check_k8s_wiring(report: Report, objects: list[tuple[Path, dict]], docs: dict[Path, list]) -> None:
    """StatefulSet ↔ ConfigMap/Secret/KafkaUser/Service/PDB consistency and the operational settings."""
    problems = []
    by_kind: dict[str, list[dict]] = {}
    for path, obj in objects:
        if path.parent == DEPLOY / "k8s":
            by_kind.setdefault(obj.get("kind"), []).append(obj)
    users_everywhere = {o["metadata"]["name"] for _, o in objects if o.get("kind") == "KafkaUser"}
    if by_kind.get("Deployment"):
        problems.append("the worker runs as a StatefulSet (stable instance ids), not a Deployment")
    sets = by_kind.get("StatefulSet", [])
    if len(sets) != 1:
        report.result("k8s-wiring", problems + [f"expected one StatefulSet, found {len(sets)}"], "")
        return
    dep = sets[0]
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    configmaps = {c["metadata"]["name"]: c.get("data", {}) for c in by_kind.get("ConfigMap", [])}
    users = users_everywhere
    kust = (docs.get(DEPLOY / "k8s" / "kustomization.yaml") or [{}])[0]
    generated = {g["name"]: [Path(f.split("=")[-1]).name for f in g.get("files", [])]
                 for g in kust.get("configMapGenerator") or []}

    if spec.get("replicas") != 2:
        problems.append("StatefulSet replicas must be 2")
    env = {}
    for ref in container.get("envFrom") or []:
        name = (ref.get("configMapRef") or {}).get("name")
        if name not in configmaps:
            problems.append(f"envFrom names ConfigMap {name}, which is not in the manifests")
        else:
            env.update(configmaps[name])
    for e in container.get("env") or []:
        secret = ((e.get("valueFrom") or {}).get("secretKeyRef") or {})
        if secret and secret.get("name") not in users:
            problems.append(f"{e['name']} reads Secret {secret.get('name')}, which no KafkaUser creates")
        if secret and e["name"] != "KHUYENCONG_KAFKA_SASL_PASSWORD":
            problems.append(f"secret value in unexpected variable {e['name']}")
    if "KHUYENCONG_KAFKA_SASL_PASSWORD" not in env_names_of(container):
        problems.append("KHUYENCONG_KAFKA_SASL_PASSWORD must come from a secretKeyRef")
    if any("PASSWORD" in k or "SECRET" in k for k in env):
        problems.append("a ConfigMap holds a password or secret; use a Secret")
    if str(env.get("KHUYENCONG_HTTP", "127.0.0.1")).startswith("127.0.0.1"):
        problems.append("KHUYENCONG_HTTP must bind 0.0.0.0 in a pod (the default is 127.0.0.1)")

    timeout_s = int(env.get("KHUYENCONG_KAFKA_TRANSACTION_TIMEOUT_MS", DEFAULT_TRANSACTION_TIMEOUT_MS)) / 1000
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace <= timeout_s:
        problems.append(f"terminationGracePeriodSeconds {grace} must exceed the transaction timeout {timeout_s:g} s")
    probes = {k: ((container.get(k) or {}).get("httpGet") or {}).get("path")
              for k in ("readinessProbe", "livenessProbe")}
    if probes != {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}:
        problems.append(f"probes must be readiness /readyz and liveness /healthz, found {probes}")
    if not (pod.get("securityContext") or {}).get("runAsNonRoot"):
        problems.append("pod securityContext.runAsNonRoot must be true")
    if not (container.get("securityContext") or {}).get("readOnlyRootFilesystem"):
        problems.append("container securityContext.readOnlyRootFilesystem must be true")
    res = container.get("resources") or {}
    if not (res.get("requests") and res.get("limits")):
        problems.append("container resources need requests and limits")

    # The files passed with --rules/--registry-* must be in the mounted, generated ConfigMap.
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts") or []}
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    args = container.get("args") or []
    for flag in ("--rules", "--registry-2004", "--registry-2025"):
        if flag not in args or args.index(flag) + 1 >= len(args):
            problems.append(f"args must pass {flag} FILE")
            continue
        file = Path(args[args.index(flag) + 1])
        vol = next((n for n, m in mounts.items() if Path(m) == file.parent), None)
        cm = ((volumes.get(vol) or {}).get("configMap") or {}).get("name")
        if cm not in generated or file.name not in generated[cm]:
            problems.append(f"{flag} {file} is not a file of a mounted generated ConfigMap")

    selector = spec["selector"]["matchLabels"]
    services = {s_["metadata"]["name"]: s_ for s_ in by_kind.get("Service", [])}
    for name, svc in services.items():
        if svc["spec"].get("selector") != selector:
            problems.append(f"Service {name} selector {svc['spec'].get('selector')} differs from the StatefulSet's {selector}")
    headless = services.get(spec.get("serviceName"))
    if headless is None or headless["spec"].get("clusterIP") != "None":
        problems.append(f"the StatefulSet's serviceName {spec.get('serviceName')} must be a headless Service here")
    if not any(s_["spec"].get("clusterIP") != "None" and 8080 in [p.get("port") for p in s_["spec"]["ports"]]
               for s_ in services.values()):
        problems.append("a ClusterIP Service must expose port 8080")
    pdbs = by_kind.get("PodDisruptionBudget", [])
    if len(pdbs) != 1:
        problems.append(f"expected one PodDisruptionBudget, found {len(pdbs)}")
    elif pdbs[0]["spec"].get("selector", {}).get("matchLabels") != selector:
        problems.append("the PodDisruptionBudget selects other pods than the StatefulSet")
    elif pdbs[0]["spec"].get("minAvailable") != 1:
        problems.append("PodDisruptionBudget minAvailable must be 1")
    report.result("k8s-wiring", problems,
                  "StatefulSet, ConfigMaps, Secret, probes, grace period, Services and PDB agree")


def check_acls_cover_worker(report: Report, objects: list[tuple[Path, dict]], ref: dict | None) -> None:
    if ref is None:
        report.skip("kafka-acls", "no --config-reference given")
        return
    users = {o["metadata"]["name"]: o for _, o in objects if o.get("kind") == "KafkaUser"}
    topics, group = ref["topics"], ref["group_id"]

    def allowed(user: dict, rtype: str, name: str | None, op: str) -> bool:
        for acl in user["spec"]["authorization"].get("acls") or []:
            res = acl["resource"]
            if res["type"] != rtype or op not in acl["operations"] and "All" not in acl["operations"]:
                continue
            if rtype == "cluster":
                return True
            pattern = res.get("patternType", "literal")
            if (pattern == "literal" and res["name"] in (name, "*")) or \
               (pattern == "prefix" and name.startswith(res["name"])):
                return True
        return False

    problems = []
    input_topic = topics["input"]
    worker = users.get("khuyencong-worker")
    if worker is None:
        problems.append("no KafkaUser khuyencong-worker")
    else:
        needs = [("topic", input_topic, "Read"), ("topic", f"{input_topic}.49", "Read")]
        needs += [("topic", topics[r], "Write") for r in ("summaries", "alerts", "rejected")]
        needs += [("topic", topics[r], "Read") for r in ("summaries", "alerts")]  # its read model
        needs += [("topic", topics[r], op) for r in INTERNAL_ROLES for op in ("Read", "Write")]
        needs += [("group", group, "Read"), ("transactionalId", f"{group}-khuyencong-worker-0", "Write")]
        needs += [("topic", topics[r], "Describe") for r in CONTRACT_ROLES + INTERNAL_ROLES]
        for rtype, name, op in needs:
            if not allowed(worker, rtype, name, op):
                problems.append(f"khuyencong-worker may not {op} {rtype} {name or ''}".rstrip())
        if any(acl["resource"]["type"] == "cluster" for acl in worker["spec"]["authorization"].get("acls") or []):
            problems.append("khuyencong-worker needs no cluster ACL (IdempotentWrite is implied by topic Write, KIP-679)")
    for name, user in users.items():
        if name != "khuyencong-operator" and allowed(user, "topic", topics["rejected"], "Read"):
            problems.append(f"{name} may read {topics['rejected']}, which only operators may read")
        writes = [acl for acl in user["spec"]["authorization"].get("acls") or []
                  if {"Write", "All"} & set(acl["operations"])]
        if name.startswith("khuyencong-province-"):
            code = name.removeprefix("khuyencong-province-")
            own = f"{input_topic}.{code}"
            acls = user["spec"]["authorization"].get("acls") or []
            if len(acls) != 1 or acls[0]["resource"] != {"type": "topic", "name": own, "patternType": "literal"} \
                    or not set(acls[0]["operations"]) <= {"Write", "Describe"}:
                problems.append(f"{name} may do more than write its own topic {own}: {acls}")
            if not (user["spec"].get("quotas") or {}).get("producerByteRate"):
                problems.append(f"{name} has no produce quota (spec.quotas.producerByteRate)")
        elif name != "khuyencong-worker" and writes:
            problems.append(f"{name} is a reading role but may write: {writes}")
    provinces = [n for n in users if n.startswith("khuyencong-province-")]
    if not provinces:
        problems.append("no KafkaUser for provincial producers (khuyencong-province-{code})")
    for role in ("khuyencong-ministry-reader", "khuyencong-alert-consumer", "khuyencong-operator"):
        if role not in users:
            problems.append(f"no KafkaUser {role}")
    report.result("kafka-acls", problems,
                  f"the worker may do what it needs; {len(provinces)} provinces may each write only their own "
                  "topic, with a quota; readers only read; only operators read the rejected topic")


def check_k8s_against_reference(report: Report, objects: list[tuple[Path, dict]], ref: dict | None) -> None:
    if ref is None:
        report.skip("k8s-vs-reference", "no --config-reference given")
        return
    problems = []
    declared = {}
    for _, o in objects:
        if o.get("kind") == "KafkaTopic":
            declared[o["spec"].get("topicName", o["metadata"]["name"])] = o["spec"]
    prefix = ref["topics"]["input"] + "."
    per_province = {name.removeprefix(prefix): spec for name, spec in declared.items() if name.startswith(prefix)}
    declared = {name: spec for name, spec in declared.items() if not name.startswith(prefix)}
    problems += compare_topics(declared, ref)
    codes = registry_codes()
    if codes is not None and set(per_province) != codes:
        problems.append(f"per-province topics {sorted(set(per_province) ^ codes)} differ from the registries' units: "
                        "regenerate with `khuyencong manifests --out deploy/k8s/provinces`")
    for code, spec in sorted(per_province.items()):
        config = {k: str(v) for k, v in (spec.get("config") or {}).items()}
        if spec.get("replicas") != 3 or config.get("min.insync.replicas") != "2":
            problems.append(f"topic {prefix}{code}: replication 3 and min.insync.replicas 2 expected")
    for _, o in objects:
        if o.get("kind") == "ConfigMap" and o["metadata"]["name"].endswith("-env"):
            problems += unknown_env(o.get("data", {}), ref, f"ConfigMap {o['metadata']['name']}")
            problems += wrong_topic_env(o.get("data", {}), ref, f"ConfigMap {o['metadata']['name']}")
        if o.get("kind") == "StatefulSet":
            for c in o["spec"]["template"]["spec"]["containers"]:
                if ref.get("version") and c["image"].rsplit(":", 1)[-1] != ref["version"]:
                    problems.append(f"StatefulSet image {c['image']} is not tagged with the release {ref['version']}")
                problems += unknown_env(dict.fromkeys(env_names_of(c), ""), ref, f"StatefulSet {c['name']}")
    report.result("k8s-vs-reference", problems, f"{len(declared)} KafkaTopics, {len(per_province)} per-province "
                  "topics (one per unit of both registries) and the worker env match the reference")


def registry_codes() -> set[str] | None:
    """Every distinct unit code of the bundled registries (None outside a full tree)."""
    import csv
    codes = set()
    for name in ("provinces-2004.csv", "provinces-2025.csv"):
        path = RESOURCES / name
        if not path.is_file():
            return None
        with path.open(encoding="utf-8") as f:
            codes |= {row["code"] for row in csv.DictReader(f)}
    return codes


# ---------------------------------------------------------------- reference comparisons

def expected_topics(ref: dict) -> dict[str, dict]:
    out = {}
    for role in CONTRACT_ROLES:
        out[ref["topics"][role]] = {"partitions": ref["partitions"], "compact": False}
    for role in INTERNAL_ROLES:
        out[ref["topics"][role]] = {"partitions": ref.get("internal_partitions", 1), "compact": role == "changelog"}
    return out


def compare_topics(declared: dict[str, dict], ref: dict) -> list[str]:
    """declared: topic name -> {partitions, replicas, config}."""
    problems = []
    expected = expected_topics(ref)
    for name in sorted(set(expected) - set(declared)):
        problems.append(f"topic {name} is not created")
    for name in sorted(set(declared) - set(expected)):
        problems.append(f"topic {name} is created but not in the reference")
    for name in sorted(set(expected) & set(declared)):
        got, want = declared[name], expected[name]
        if got.get("partitions") != want["partitions"]:
            problems.append(f"topic {name}: {got.get('partitions')} partitions, the reference says {want['partitions']}")
        if got.get("replicas") != 3:
            problems.append(f"topic {name}: replication {got.get('replicas')}, must be 3")
        config = {k: str(v) for k, v in (got.get("config") or {}).items()}
        if config.get("min.insync.replicas") != "2":
            problems.append(f"topic {name}: min.insync.replicas must be 2")
        if (config.get("cleanup.policy") == "compact") != want["compact"]:
            problems.append(f"topic {name}: cleanup.policy must {'' if want['compact'] else 'not '}be compact")
    return problems


def unknown_env(env: dict, ref: dict, where: str) -> list[str]:
    patterns = ref["env"]
    return [f"{where}: {name} is not a variable the worker reads" for name in sorted(env)
            if name.startswith("KHUYENCONG_") and not any(fnmatch.fnmatchcase(name, p) for p in patterns)]


def wrong_topic_env(env: dict, ref: dict, where: str) -> list[str]:
    problems = []
    for role, var in TOPIC_ENV.items():
        if var in env and env[var] != ref["topics"][role]:
            problems.append(f"{where}: {var}={env[var]}, the reference says {ref['topics'][role]}")
    if "KHUYENCONG_GROUP_ID" in env and env["KHUYENCONG_GROUP_ID"] != ref["group_id"]:
        problems.append(f"{where}: KHUYENCONG_GROUP_ID={env['KHUYENCONG_GROUP_ID']}, the reference says {ref['group_id']}")
    return problems


# ---------------------------------------------------------------- compose

def topics_created_in(command_text: str) -> tuple[dict[str, dict], list[str]]:
    """The topics that kafka-topics.sh --create lines make, with partitions/replicas/config."""
    declared, problems = {}, []
    for line in command_text.replace("\\\n", " ").splitlines():
        if "kafka-topics.sh" not in line or "--create" not in line:
            continue
        words = shlex.split(line)
        opts: dict[str, list[str]] = {}
        for i, w in enumerate(words):
            if w.startswith("--") and i + 1 < len(words) and not words[i + 1].startswith("--"):
                opts.setdefault(w, []).append(words[i + 1])
        try:
            topic = opts["--topic"][0]
            declared[topic] = {
                "partitions": int(opts["--partitions"][0]),
                "replicas": int(opts["--replication-factor"][0]),
                "config": dict(c.split("=", 1) for c in opts.get("--config", [])),
            }
        except (KeyError, ValueError) as e:
            problems.append(f"cannot read topic, partitions and replication from: {line.strip()} ({e})")
    return declared, problems


def service_env(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def check_compose(report: Report, docs: dict[Path, list], ref: dict | None) -> dict[str, dict]:
    compose = (docs.get(DEPLOY / "compose.yaml") or [{}])[0]
    services = compose.get("services") or {}
    problems = []

    brokers = {n: s for n, s in services.items() if "apache/kafka" in str(s.get("image", ""))
               and "KAFKA_PROCESS_ROLES" in service_env(s)}
    if len(brokers) != 3:
        problems.append(f"expected 3 KRaft brokers, found {len(brokers)}")
    node_ids, cluster_ids, voters = {}, set(), set()
    for name, svc in brokers.items():
        env = service_env(svc)
        node_ids[env.get("KAFKA_NODE_ID")] = svc.get("hostname", name)
        cluster_ids.add(env.get("CLUSTER_ID"))
        voters.add(env.get("KAFKA_CONTROLLER_QUORUM_VOTERS"))
        for key, want in (("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "3"),
                          ("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "2"),
                          ("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "3")):
            if env.get(key) != want:
                problems.append(f"{name}: {key} must be {want}")
        for key in ("KAFKA_LISTENERS", "KAFKA_ADVERTISED_LISTENERS", "KAFKA_CONTROLLER_LISTENER_NAMES",
                    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"):
            if not env.get(key):
                problems.append(f"{name}: {key} is required")
        if "localhost:" not in env.get("KAFKA_ADVERTISED_LISTENERS", ""):
            problems.append(f"{name}: needs an EXTERNAL listener advertised on localhost for host clients")
    if len(cluster_ids) != 1 or None in cluster_ids:
        problems.append(f"brokers must share one CLUSTER_ID, found {cluster_ids}")
    if len(voters) != 1:
        problems.append("brokers disagree on KAFKA_CONTROLLER_QUORUM_VOTERS")
    elif brokers:
        listed = dict(v.split("@")[0:2] for v in next(iter(voters)).split(","))
        if {k: h.split(":")[0] for k, h in listed.items()} != node_ids:
            problems.append(f"quorum voters {listed} do not match node ids and hosts {node_ids}")

    declared: dict[str, dict] = {}
    for name, svc in services.items():
        cmd = svc.get("command")
        text = "\n".join(cmd) if isinstance(cmd, list) else str(cmd or "")
        found, bad = topics_created_in(text)
        declared.update(found)
        problems += bad

    workers = {n: s for n, s in services.items() if any(k.startswith("KHUYENCONG_") for k in service_env(s))}
    if len(workers) < 2:
        problems.append(f"expected at least 2 workers, found {len(workers)}")
    txn_ids, groups = [], set()
    for name, svc in workers.items():
        env = service_env(svc)
        if env.get("KHUYENCONG_GUARANTEE") != "exactly-once":
            problems.append(f"{name}: KHUYENCONG_GUARANTEE must be exactly-once")
        if not env.get("KHUYENCONG_HTTP", "").startswith("0.0.0.0:"):
            problems.append(f"{name}: KHUYENCONG_HTTP must bind 0.0.0.0 in a container")
        if not env.get("KHUYENCONG_BROKERS"):
            problems.append(f"{name}: KHUYENCONG_BROKERS is required (else the worker refuses to start)")
        txn_ids.append(env.get("KHUYENCONG_TRANSACTIONAL_ID") or env.get("KHUYENCONG_INSTANCE_ID"))
        groups.add(env.get("KHUYENCONG_GROUP_ID"))
    if None in txn_ids or len(set(txn_ids)) != len(txn_ids):
        problems.append(f"workers need distinct KHUYENCONG_INSTANCE_IDs (or transactional ids), found {txn_ids}")
    for name, svc in services.items():
        image = str(svc.get("image", ""))
        if not re.search(r":v?\d+\.\d+\.\d+$", image):
            problems.append(f"{name}: image {image!r} is not pinned to an exact version")
    for name in brokers:
        if not re.search(r"apache/kafka:4\.", str(services[name].get("image"))):
            problems.append(f"{name}: Kafka must be 4.x, the major current Strimzi supports")
    if "alertmanager" not in services:
        problems.append("no alertmanager service")
    prometheus_config = (docs.get(DEPLOY / "prometheus" / "prometheus.yml") or [{}])[0]
    am_targets = {t for am in (prometheus_config.get("alerting") or {}).get("alertmanagers") or []
                  for sc in am.get("static_configs") or [] for t in sc.get("targets") or []}
    if "alertmanager:9093" not in am_targets:
        problems.append("prometheus.yml does not send alerts to alertmanager:9093")
    if len(groups) != 1:
        problems.append(f"workers must share one KHUYENCONG_GROUP_ID, found {groups}")
    report.result("compose", problems,
                  f"{len(brokers)} KRaft brokers, {len(declared)} topics created, {len(workers)} exactly-once workers")

    if ref is None:
        report.skip("compose-vs-reference", "no --config-reference given")
    else:
        ref_problems = compare_topics(declared, ref)
        for name, svc in workers.items():
            ref_problems += unknown_env(service_env(svc), ref, name)
            ref_problems += wrong_topic_env(service_env(svc), ref, name)
            if ref.get("version") and str(svc.get("image", "")).rsplit(":", 1)[-1] != ref["version"]:
                ref_problems.append(f"{name}: image {svc.get('image')} is not tagged with the release {ref['version']}")
        report.result("compose-vs-reference", ref_problems,
                      f"topics, partitions and worker variables match the reference ({len(ref['env'])} env entries)")
    return workers


def check_dockerfile(report: Report, ref: dict | None) -> None:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    problems = []
    for needle, why in (("--static-swift-stdlib", "a static Swift runtime"), ("librdkafka1", "the librdkafka runtime"),
                        ("ca-certificates", "CA certificates for TLS"), ("HEALTHCHECK", "a health check"),
                        ("/healthz", "the health check on /healthz"), ('ENTRYPOINT ["khuyencong"]', "the entrypoint"),
                        ('CMD ["run"]', "run as the default command"), (".resources", "the resource bundles")):
        if needle not in text:
            problems.append(f"missing {why} ({needle})")
    args = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", text, re.M))
    if not re.fullmatch(r"swift:6\.3\.1-\S+", args.get("SWIFT_IMAGE", "")):
        problems.append(f"SWIFT_IMAGE must be the tested toolchain swift:6.3.1-…, found {args.get('SWIFT_IMAGE')}")
    if not re.fullmatch(r"debian:\d+\.\d+-slim", args.get("RUNTIME_IMAGE", "")):
        problems.append(f"RUNTIME_IMAGE must be an exact Debian point release, found {args.get('RUNTIME_IMAGE')}")
    if "COPY Package.swift Package.resolved ./" not in text or "--force-resolved-versions" not in text:
        problems.append("the image must build from Package.resolved with --force-resolved-versions (the policy)")
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    if not users or users[-1].split(":")[0] in ("root", "0"):
        problems.append("the final stage must run as a non-root USER")
    envs = dict(re.findall(r"^ENV\s+(\w+)=(\S+)", text, re.M))
    if not envs.get("KHUYENCONG_HTTP", "").startswith("0.0.0.0:"):
        problems.append("ENV KHUYENCONG_HTTP=0.0.0.0:8080 must be set explicitly")
    if ref is not None:
        problems += unknown_env(envs, ref, "Dockerfile")
    if not (REPO / ".dockerignore").is_file() or ".build" not in (REPO / ".dockerignore").read_text():
        problems.append(".dockerignore at the repository root must exclude .build")
    report.result("dockerfile", problems,
                  "pinned images, Package.resolved, multi-stage, non-root, health check, bundles and 0.0.0.0 listener")


def check_prometheus_targets(report: Report, docs: dict[Path, list], workers: dict[str, dict]) -> None:
    config = (docs.get(DEPLOY / "prometheus" / "prometheus.yml") or [{}])[0]
    targets = {t for job in config.get("scrape_configs") or [] for sc in job.get("static_configs") or []
               for t in sc.get("targets") or []}
    wanted = {f"{name}:{service_env(svc).get('KHUYENCONG_HTTP', ':8080').rsplit(':', 1)[1]}"
              for name, svc in workers.items()}
    problems = [f"Prometheus does not scrape {t}" for t in sorted(wanted - targets)]
    problems += [f"Prometheus scrapes {t}, which is no worker" for t in sorted(targets - wanted)]
    for rule_file in config.get("rule_files") or []:
        if not (DEPLOY / "prometheus" / Path(rule_file).name).is_file():
            problems.append(f"rule file {rule_file} is not in deploy/prometheus/")
    report.result("prometheus-targets", problems, f"scrapes every worker ({', '.join(sorted(targets))})")


def check_grafana_provisioning(report: Report, docs: dict[Path, list]) -> None:
    """The dashboard's datasource is provisioned and the provider reads where compose mounts it."""
    prov = DEPLOY / "grafana" / "provisioning"
    uids = {ds.get("uid") for p, d in docs.items() if p.parent == prov / "datasources"
            for ds in (d[0] if d else {}).get("datasources") or []}
    paths = {(prov_.get("options") or {}).get("path") for p, d in docs.items() if p.parent == prov / "dashboards"
             for prov_ in (d[0] if d else {}).get("providers") or []}
    dashboard = (docs.get(DEPLOY / "grafana" / "dashboards" / "khuyencong.json") or [{}])[0]
    used = {ds.get("uid") for ds in datasources_in(dashboard)}
    problems = [f"dashboard uses datasource uid {u!r}, which is not provisioned" for u in sorted(used - uids, key=str)]
    grafana = ((docs.get(DEPLOY / "compose.yaml") or [{}])[0].get("services") or {}).get("grafana") or {}
    mounts = {v.split(":")[0]: v.split(":")[1] for v in grafana.get("volumes") or [] if ":" in v}
    if mounts.get("./grafana/provisioning") != "/etc/grafana/provisioning":
        problems.append("compose must mount ./grafana/provisioning at /etc/grafana/provisioning")
    if mounts.get("./grafana/dashboards") not in paths:
        problems.append(f"the dashboard provider reads {paths}, compose mounts the dashboards at "
                        f"{mounts.get('./grafana/dashboards')}")
    report.result("grafana-provisioning", problems, f"datasource {sorted(uids)} provisioned, dashboards mounted")


def datasources_in(node: object) -> list[dict]:
    if isinstance(node, dict):
        own = [node["datasource"]] if isinstance(node.get("datasource"), dict) else []
        return own + [d for v in node.values() for d in datasources_in(v)]
    if isinstance(node, list):
        return [d for v in node for d in datasources_in(v)]
    return []


# ---------------------------------------------------------------- metrics used by dashboard and rules

def parse_metrics(text: str) -> dict[str, set[str]]:
    """Prometheus text exposition: sample name -> label names seen on it."""
    metrics: dict[str, set[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("# TYPE "):
            parts = line.split()
            if len(parts) >= 3:
                metrics.setdefault(parts[2], set())
            continue
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s", line)
        if m:
            labels = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"', m.group(3) or ""))
            metrics.setdefault(m.group(1), set()).update(labels)
    return metrics


def exprs_in(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "expr" and isinstance(v, str)] + \
               [e for v in node.values() for e in exprs_in(v)]
    if isinstance(node, list):
        return [e for v in node for e in exprs_in(v)]
    return []


def expr_problems(expr: str, metrics: dict[str, set[str]]) -> list[str]:
    problems = []
    names = set(re.findall(r"\b(khuyencong_[a-zA-Z0-9_:]+)", expr))
    for name in sorted(names):
        if name not in metrics:
            problems.append(f"metric {name} is not in the /metrics output (used in: {expr.strip()[:90]})")
    known = set().union(*(metrics.get(n, set()) for n in names)) | {"instance", "job", "le"}
    used = set(re.findall(r"\b([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*\"", expr))
    for group in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr):
        used |= {w.strip() for w in group.split(",") if w.strip()}
    for label in sorted(used - known - PROMQL_WORDS):
        if names & metrics.keys():
            problems.append(f"label {label} is on none of {sorted(names)} (used in: {expr.strip()[:90]})")
    return problems


def check_dashboard_and_rules(report: Report, docs: dict[Path, list], metrics_file: Path | None) -> None:
    dash_path = DEPLOY / "grafana" / "dashboards" / "khuyencong.json"
    dashboard = (docs.get(dash_path) or [None])[0]
    problems = []
    if not isinstance(dashboard, dict) or not dashboard.get("panels"):
        problems.append(f"{rel(dash_path)} must be a dashboard with panels")
        dashboard = {}
    for panel in dashboard.get("panels", []):
        if not panel.get("targets") or not all(t.get("expr") for t in panel["targets"]):
            problems.append(f"panel {panel.get('title')!r} needs targets with expr")
    dash_exprs = exprs_in(dashboard)
    rules = (docs.get(DEPLOY / "prometheus" / "alerts.yml") or [{}])[0]
    rule_exprs = exprs_in(rules)
    report.result("dashboard", problems, f"{len(dashboard.get('panels', []))} panels, {len(dash_exprs)} queries")
    if metrics_file is None:
        report.skip("dashboard-metrics", "no --metrics file given (pass a captured /metrics output)")
        return
    metrics = parse_metrics(metrics_file.read_text(encoding="utf-8"))
    problems = []
    # The under-execution alert series come from the read side; a build without it exposes none.
    if not ALERT_SERIES & metrics.keys():
        report.skip("dashboard-metrics", f"{metrics_file.name} has none of {sorted(ALERT_SERIES)} (no read side "
                                         "in this build, or no active alert): the rule using them is not checked")
        rule_exprs = [e for e in rule_exprs if not ALERT_SERIES & set(re.findall(r"\b(khuyencong_\w+)", e))]
    for expr in dash_exprs + rule_exprs:
        problems += expr_problems(expr, metrics)
    used = {n for e in dash_exprs + rule_exprs for n in re.findall(r"\b(khuyencong_[a-zA-Z0-9_:]+)", e)}
    report.result("dashboard-metrics", sorted(set(problems)),
                  f"all {len(used)} metrics used by the dashboard and alert rules are in {metrics_file.name}")
    text = metrics_file.read_text(encoding="utf-8")
    typed = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    helped = set(re.findall(r"^# HELP (\S+) \S", text, re.M))
    missing = sorted(typed - helped)
    for needed in ("khuyencong_build_info", "process_cpu_seconds_total", "process_resident_memory_bytes",
                   "process_open_fds", "process_start_time_seconds"):
        if needed not in typed:
            missing.append(f"{needed} (not exposed at all)")
    report.result("metric-help", [f"{m} has no HELP text" for m in missing],
                  f"all {len(typed)} metric families have a HELP text")


# ---------------------------------------------------------------- monitoring, alerting, references

def check_monitoring(report: Report, docs: dict[Path, list]) -> None:
    """The Kubernetes PodMonitor and PrometheusRule agree with the Compose Prometheus files."""
    problems = []
    mon = DEPLOY / "k8s" / "monitoring"
    podmonitor = (docs.get(mon / "podmonitor.yaml") or [{}])[0]
    if podmonitor.get("kind") != "PodMonitor" or podmonitor.get("apiVersion") != "monitoring.coreos.com/v1":
        problems.append("k8s/monitoring/podmonitor.yaml must hold a monitoring.coreos.com/v1 PodMonitor")
    else:
        # The rules select job="khuyencong": the Compose job name, and here the pods' name label.
        label = podmonitor["spec"].get("jobLabel")
        worker = next((o for p, ds in docs.items() for o in ds if isinstance(o, dict) and o.get("kind") == "StatefulSet"), {})
        pod_labels = ((worker.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels", {})
        if pod_labels.get(label) != "khuyencong":
            problems.append(f"PodMonitor jobLabel {label!r} does not give the worker pods job=\"khuyencong\"")
        if podmonitor["spec"].get("selector", {}).get("matchLabels", {}).items() - pod_labels.items():
            problems.append("the PodMonitor does not select the worker pods")
        ports = {p["name"] for c in worker.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
                 for p in c.get("ports", [])}
        for endpoint in podmonitor["spec"].get("podMetricsEndpoints") or []:
            if endpoint.get("port") not in ports or endpoint.get("path") != "/metrics":
                problems.append(f"PodMonitor endpoint {endpoint} is not the pods' /metrics port")
    compose_jobs = {j.get("job_name") for j in ((docs.get(DEPLOY / "prometheus" / "prometheus.yml") or [{}])[0]
                                                 .get("scrape_configs") or [])}
    if "khuyencong" not in compose_jobs:
        problems.append("prometheus.yml must scrape the workers as job khuyencong (the rules select it)")
    rule = (docs.get(mon / "prometheus-rule.yaml") or [{}])[0]
    groups = (docs.get(DEPLOY / "prometheus" / "alerts.yml") or [{}])[0].get("groups")
    if rule.get("kind") != "PrometheusRule" or (rule.get("spec") or {}).get("groups") != groups:
        problems.append("k8s/monitoring/prometheus-rule.yaml must hold the groups of prometheus/alerts.yml, unchanged")
    report.result("monitoring", problems, "PodMonitor job label and PrometheusRule groups match the Compose files")


def check_alerting_tools(report: Report, docs: dict[Path, list]) -> None:
    """promtool and amtool (Debian prometheus, prometheus-alertmanager) on the rule and
    Alertmanager files, including the rule unit tests and the example routes."""
    tools = {t: shutil.which(t) for t in ("promtool", "amtool")}
    if not all(tools.values()):
        missing = [t for t, p in tools.items() if not p]
        report.skip("alerting-tools", f"{', '.join(missing)} not installed (make test-deps installs them)")
        return
    problems = []

    def run(*args: str, cwd: Path = DEPLOY) -> str | None:
        done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
        return None if done.returncode == 0 else f"{' '.join(args)}: {(done.stdout + done.stderr).strip()}"

    prom = DEPLOY / "prometheus"
    problems.append(run("promtool", "check", "rules", "alerts.yml", cwd=prom))
    problems.append(run("promtool", "test", "rules", "alerts-test.yml", cwd=prom))
    rule = (docs.get(DEPLOY / "k8s" / "monitoring" / "prometheus-rule.yaml") or [{}])[0]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump({"groups": (rule.get("spec") or {}).get("groups") or []}, f, allow_unicode=True)
    problems.append(run("promtool", "check", "rules", f.name))
    Path(f.name).unlink()
    for config in (DEPLOY / "alertmanager" / "alertmanager.yml", DEPLOY / "k8s" / "monitoring" / "alertmanager.yml"):
        problems.append(run("amtool", "check-config", str(config)))
    # Example routes: (labels, receivers expected).
    routes = [
        (["kind=under-execution", "level=region", "code=bac", "severity=critical"], "team-bac,programme-office"),
        (["kind=under-execution", "level=region", "code=mien-trung-tay-nguyen", "severity=warning"],
         "team-mien-trung-tay-nguyen,programme-office"),
        (["kind=under-execution", "level=national", "code=ca-nuoc", "severity=warning"], "programme-office"),
        (["alertname=KhuyencongStalled", "severity=critical"], "operations"),
    ]
    for labels, receivers in routes:
        problems.append(run("amtool", "config", "routes", "test", "--config.file",
                            str(DEPLOY / "alertmanager" / "alertmanager.yml"), f"--verify.receivers={receivers}", *labels))
    problems = [p for p in problems if p]
    report.result("alerting-tools", problems, "promtool check/test rules and amtool check-config/routes pass")


def check_references(report: Report) -> None:
    """No deploy/ file points at a document or README section that does not exist."""
    problems = []
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    headings = {h.strip() for h in re.findall(r"^#+\s+(.+)$", readme, re.M)}
    for path in sorted(DEPLOY.rglob("*")):
        if not path.is_file() or path.suffix not in (".yaml", ".yml", ".md", ".py", "") or path.name == "check.py":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for doc in set(re.findall(r"\b([\w-]+\.md)\b", text)):
            if not any((base / doc).is_file() for base in (DEPLOY, REPO, REPO / "docs", REPO / "Schemas")):
                problems.append(f"{rel(path)} refers to {doc}, which does not exist")
        for section in re.findall(r'README(?:\.md)? "([^"]+)"', text):
            if section not in headings:
                problems.append(f"{rel(path)} refers to the README section \"{section}\", which does not exist")
        if re.search(r"<[a-z ]+ file>", text):
            problems.append(f"{rel(path)} has a placeholder {re.search(r'<[a-z ]+ file>', text).group(0)}")
    report.result("references", problems, "every document and README section referred to exists")


# ---------------------------------------------------------------- main

def load_reference(path: Path | None, report: Report) -> dict | None:
    if path is None:
        return None
    try:
        ref = json.loads(path.read_text(encoding="utf-8"))
        for key in ("group_id", "topics", "partitions", "env"):
            if key not in ref:
                raise ValueError(f"missing {key!r}")
        for role in CONTRACT_ROLES + INTERNAL_ROLES:
            if role not in ref["topics"]:
                raise ValueError(f"topics lacks {role!r}")
    except (OSError, ValueError) as e:
        report.result("config-reference", [f"{path}: {e}"], "")
        return None
    report.result("config-reference", [], f"{path.name}: {len(ref['topics'])} topics, {len(ref['env'])} env entries")
    return ref


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metrics", type=Path, help="a captured /metrics output of a worker")
    parser.add_argument("--config-reference", type=Path, help="the worker's configuration reference (JSON)")
    parser.add_argument("--kubernetes-version", default="1.30", help="Kubernetes schema version (default 1.30)")
    args = parser.parse_args()

    report = Report()
    docs = check_parsing(report)
    ref = load_reference(args.config_reference, report)
    if args.config_reference is not None and ref is None:
        return 1
    objects = k8s_objects(docs)

    def guarded(name: str, check, *check_args):
        """A malformed file must read as a failed check, not as a traceback."""
        try:
            return check(report, *check_args)
        except (KeyError, IndexError, TypeError, AttributeError, ValueError, OSError,
                subprocess.SubprocessError) as e:
            report.result(name, [f"cannot check: {type(e).__name__}: {e}"], "")
            return {}

    guarded("k8s-schema", check_k8s_schemas, objects, args.kubernetes_version)
    guarded("strimzi-structure", check_strimzi, objects)
    guarded("kustomization", check_kustomization, docs)
    guarded("k8s-wiring", check_k8s_wiring, objects, docs)
    guarded("kafka-acls", check_acls_cover_worker, objects, ref)
    guarded("k8s-vs-reference", check_k8s_against_reference, objects, ref)
    workers = guarded("compose", check_compose, docs, ref)
    guarded("prometheus-targets", check_prometheus_targets, docs, workers)
    guarded("dockerfile", check_dockerfile, ref)
    guarded("grafana-provisioning", check_grafana_provisioning, docs)
    guarded("dashboard", check_dashboard_and_rules, docs, args.metrics)
    guarded("monitoring", check_monitoring, docs)
    guarded("alerting-tools", check_alerting_tools, docs)
    guarded("references", check_references)
    print(f"deploy-check: {'FAILED, ' + str(report.failures) + ' check(s)' if report.failures else 'all checks passed'}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
