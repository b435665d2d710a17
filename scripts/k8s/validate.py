#!/usr/bin/env python3
"""Offline checks of the sharded-run examples (there is no cluster here):
every document of scripts/k8s/*.yaml and scripts/ci/github-actions-sharded.yml
parses, and the fields parity relies on agree with each other:
  - the shards Job is Indexed, runs every index at once, and passes
    `--shards N` with N = its completions, resuming its own folder;
  - the merge Job merges the folders the shards write, on the same volume;
  - the config and URLs come from the ConfigMap and the Secret;
  - the Actions matrix lists shards 0..N-1 and the merge job needs it.
Exits 1 naming the first problem. Schema validation proper:
  pip install kubernetes-validate && kubernetes-validate --strict -k 1.32.0 scripts/k8s/*.yaml
"""
import glob, os, re, sys
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))

def fail(msg):
    print(f"validate: {msg}", file=sys.stderr)
    sys.exit(1)

docs = {}
for path in sorted(glob.glob(os.path.join(HERE, "*.yaml"))):
    with open(path) as f:
        for d in yaml.safe_load_all(f):
            if d:
                docs[(d["kind"], d["metadata"]["name"])] = d

def get(kind, name):
    d = docs.get((kind, name))
    if d is None:
        fail(f"no {kind} {name} in scripts/k8s")
    return d

get("ConfigMap", "parity-config")["data"]["parity.toml"]
secret = get("Secret", "parity-urls")
toml = get("ConfigMap", "parity-config")["data"]["parity.toml"]
for var in re.findall(r"\$\{(\w+)\}", toml):
    if var not in secret["stringData"]:
        fail(f"parity.toml names ${{{var}}}, which the Secret does not hold")
get("PersistentVolumeClaim", "parity-reports")

shards = get("Job", "parity-shards")["spec"]
if shards.get("completionMode") != "Indexed":
    fail("the shards Job must be completionMode: Indexed")
n = shards["completions"]
if shards.get("parallelism") != n:
    fail("the shards Job should run every index at once (parallelism = completions)")
pod = shards["template"]["spec"]
cmd = " ".join(pod["containers"][0]["args"])
if f"--shards {n}" not in cmd:
    fail(f"the shards Job must pass --shards {n} (its completions)")
if "--resume" not in cmd or "$JOB_COMPLETION_INDEX" not in cmd:
    fail("each shard should resume its own folder, named by JOB_COMPLETION_INDEX")
merge_pod = get("Job", "parity-merge")["spec"]["template"]["spec"]
merge_cmd = " ".join(merge_pod["containers"][0]["args"])
if "parity merge" not in merge_cmd or "shard-*" not in merge_cmd:
    fail("the merge Job must merge the shard-* folders")
claims = lambda p: {v["persistentVolumeClaim"]["claimName"] for v in p["volumes"] if "persistentVolumeClaim" in v}
if claims(pod) != claims(merge_pod):
    fail("the shards and the merge must share one volume")

with open(os.path.join(HERE, "..", "ci", "github-actions-sharded.yml")) as f:
    wf = yaml.safe_load(f)
matrix = wf["jobs"]["shard"]["strategy"]["matrix"]["shard"]
count = int(wf["env"]["SHARDS"])
if matrix != list(range(count)):
    fail(f"the Actions matrix {matrix} must list shards 0..{count - 1}")
if wf["jobs"]["merge"]["needs"] != "shard":
    fail("the merge job must need the shard jobs")
steps = " ".join(str(s.get("run", "")) for s in wf["jobs"]["merge"]["steps"])
if "parity merge" not in steps:
    fail("the merge job must run parity merge")
print(f"validate: {len(docs)} Kubernetes documents and the Actions workflow agree ({n} shards)")
