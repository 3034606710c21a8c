"""Training on a Ray cluster: settings, preflight, the run package, submission, following, stopping.

The studio hands work to Ray and schedules nothing itself. A cluster is the address of its Ray Jobs API
(``http://HEAD:8265``) and the path mappings for data on storage the nodes share. A run goes as a Ray
job (``JobSubmissionClient.submit_job``) whose working directory is a run package (``package_run``):
the run's artifacts, the dataset when it is uploaded, and the studio's training code; the job's
entrypoint (``training.cluster_job``) runs the same runner as a local run and prints the run folder
into the job's log. ``Follower`` reads that log (``tail_job_logs``) and writes the run folder in the
project as it grows, so everything that watches a local run (Monitor, Runs tab, ``yolo-studio runs``)
watches a cluster run unchanged.

The run folder records the job in ``artifacts/cluster.json`` and as the first event (``cluster_job``):
closing the studio leaves the job running, and opening it again follows it from where it was. A job
the cluster no longer knows (the head restarted), or a cluster unreachable for ``LOST_AFTER_S``, makes
the run ``lost``: its last checkpoint resumes here or on the cluster.

Nothing here imports Ray until a cluster is used: it is the optional ``cluster`` extra.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from yolo_studio.core.atomic import write_text_atomic
from yolo_studio.core.project.projects import load_settings, save_settings
from yolo_studio.training.cluster_job import MARK, NAMESPACE, stop_key
from yolo_studio.training.events import append_event, read_events
from yolo_studio.training.run_folder import RunFolder
from yolo_studio.training.tuning import trials as recorded_trials

ENABLE = "pip install 'yolo-studio[cluster]'"
UPLOAD_LIMIT_MB = 200  # a dataset up to this size goes with the job when the nodes cannot read it
LOST_AFTER_S = float(os.environ.get("YOLO_STUDIO_LOST_AFTER_S", "120"))
GRACEFUL_STOP_S = 600  # how long Ray lets a stopping job finish its batch, validation and saving
HARD_STOP_S = 10  # after the second press: the job's processes are ended, its last files sent
SHIPPED = ("__init__.py", "core", "compat", "training")  # the studio's code a node needs to train
TERMINAL_JOB = ("SUCCEEDED", "FAILED", "STOPPED")


@dataclass
class Cluster:
    """A cluster as Settings hold it: a name, the Ray Jobs address, and local prefix -> node prefix."""

    name: str
    address: str
    mappings: list = field(default_factory=list)  # [[local prefix, prefix the nodes see], ...]
    upload_limit_mb: int = UPLOAD_LIMIT_MB

    def to_node(self, path: str | Path) -> str | None:
        """Where the nodes see ``path``, by the longest mapping that contains it; None if none does."""
        text = str(Path(path).resolve())
        best = None
        for local, remote in self.mappings:
            local = str(Path(local).expanduser().resolve())
            if (text == local or text.startswith(local.rstrip("/") + "/")) and (best is None or len(local) > len(best[0])):
                best = (local, remote)
        if best is None:
            return None
        return best[1].rstrip("/") + text[len(best[0]):]


# --- settings -----------------------------------------------------------------------------------------

def ray_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("ray") is not None


def require_ray() -> None:
    if not ray_available():
        raise ValueError(f"running on a cluster needs Ray, not installed here: {ENABLE}")


def clusters() -> dict:
    """The clusters in Settings, by name."""
    found = {}
    for entry in load_settings().get("clusters") or []:
        try:
            found[entry["name"]] = Cluster(**entry)
        except (KeyError, TypeError):
            continue  # an entry another version wrote: skipped here, kept in the file
    return found


def save_cluster(cluster: Cluster) -> None:
    check_address(cluster.address)
    others = [c for c in load_settings().get("clusters") or [] if c.get("name") != cluster.name]
    save_settings(clusters=[*others, asdict(cluster)])


def remove_cluster(name: str) -> None:
    save_settings(clusters=[c for c in load_settings().get("clusters") or [] if c.get("name") != name])


def check_address(address: str) -> str:
    if not address.startswith(("http://", "https://")):
        raise ValueError(f"'{address}' is not a Ray Jobs address: give it as http://HEAD:8265 (the head node's "
                         "dashboard port)")
    return address.rstrip("/")


def resolve_cluster(name_or_address: str) -> Cluster:
    """A cluster from Settings by name, or an address used as it is."""
    known = clusters()
    if name_or_address in known:
        return known[name_or_address]
    if name_or_address.startswith(("http://", "https://")):
        return Cluster(name_or_address, check_address(name_or_address))
    names = ", ".join(sorted(known)) or "none yet"
    raise ValueError(f"no cluster named '{name_or_address}' in Settings (known: {names}); give its name or its "
                     "address, http://HEAD:8265")


# --- what the cluster has ---------------------------------------------------------------------------

def _get(address: str, path: str, timeout: float = 10.0) -> dict:
    try:
        with urllib.request.urlopen(f"{address}{path}", timeout=timeout) as response:
            return json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ValueError(f"cannot reach the cluster at {address}: {reason}. Is Ray running there (ray start "
                         "--head --dashboard-host=0.0.0.0) and port 8265 open to this computer?") from None


def describe(cluster: Cluster) -> dict:
    """Ray's version and each node: host, CPUs, GPUs (with memory), free disk; and GPUs free now."""
    version = _get(cluster.address, "/api/version")
    summary = _get(cluster.address, "/nodes?view=summary")["data"]["summary"]
    usage = _get(cluster.address, "/api/cluster_status")["data"]["clusterStatus"]["loadMetricsReport"]["usage"]
    nodes = []
    for node in summary:
        raylet = node.get("raylet") or {}
        if raylet.get("state", "ALIVE") != "ALIVE":
            continue
        resources = raylet.get("resourcesTotal") or {}
        disks = node.get("disk") or {}
        host = (node.get("hostname") or raylet.get("nodeManagerHostname") or node.get("ip")
                or raylet.get("nodeManagerAddress") or "node")  # a node that has just joined reports less
        nodes.append({"host": host, "ip": node.get("ip") or raylet.get("nodeManagerAddress"),
                      "head": bool(raylet.get("isHeadNode")), "cpus": int(resources.get("CPU", 0)),
                      "gpus": int(resources.get("GPU", 0)),
                      "gpu_memory_gb": [round(g.get("memoryTotal", 0) / 1024, 1) for g in node.get("gpus") or []],
                      "gpu_names": [g.get("name", "") for g in node.get("gpus") or []],
                      "disk_free_gb": round(max((d.get("free", 0) for d in disks.values()), default=0) / 2**30, 1)})
    used, total = usage.get("GPU", [0.0, 0.0])
    return {"ray": version.get("ray_version"), "nodes": nodes, "gpus_free": int(total - used),
            "gpus_total": int(total), "cpus": int(usage.get("CPU", [0, 0])[1])}


def node_software(cluster: Cluster, timeout: float = 180.0) -> dict:
    """Python, PyTorch, Ultralytics and CUDA as a job on the cluster sees them (a one-line job)."""
    probe = ("import json, sys, platform\nout = {'python': platform.python_version()}\n"
             "for name in ('torch', 'ultralytics', 'ray'):\n"
             "    try:\n        out[name] = __import__(name).__version__\n"
             "    except Exception as exc:\n        out[name] = None\n"
             "try:\n    import torch\n    out['cuda'] = torch.cuda.is_available()\n"
             "except Exception:\n    out['cuda'] = False\n"
             "print('" + MARK.strip() + " software ' + json.dumps(out))\n")
    client = _client(cluster)
    job = _submit(client, entrypoint=f"python -c {_quote(probe)}", entrypoint_num_cpus=0,
                            runtime_env={"env_vars": {"RAY_USAGE_STATS_ENABLED": "0"}},
                            metadata={"yolo-studio": "software probe"})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if str(client.get_job_status(job)).split(".")[-1] in TERMINAL_JOB:
            break
        time.sleep(0.5)
    for line in client.get_job_logs(job).splitlines():
        if line.startswith(MARK.strip() + " software "):
            return json.loads(line.split(" ", 2)[2])
    raise ValueError(f"the cluster did not run a one-line Python job within {timeout:.0f} s: "
                     f"{client.get_job_info(job).message or 'no message'}")


def _submit(client, **job) -> str:
    """``submit_job``, asked again for a minute while a head that has just started has no agent yet."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return client.submit_job(**job)
        except RuntimeError as exc:
            if "No available agent" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def _quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _client(cluster: Cluster):
    require_ray()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    from ray.job_submission import JobSubmissionClient

    try:
        return JobSubmissionClient(cluster.address)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ValueError(f"cannot reach the Ray Jobs API at {cluster.address}: {str(exc).splitlines()[0]}") from None


def local_versions() -> dict:
    import platform

    import ray

    return {"python": platform.python_version(), "ray": ray.__version__}


# --- preflight ------------------------------------------------------------------------------------

def dataset_plan(cluster: Cluster, data: str | Path) -> dict:
    """How the nodes read the dataset (a YAML, or a classification folder): through a mapping
    (``mapped``, with the node's path of its root), else uploaded with the job (``upload``) when under
    the cluster's limit (else ``too large``)."""
    from yolo_studio.core.data.dataset_check import dataset_root

    data = Path(data).resolve()
    if data.is_dir():
        root, kind = data, "folder"
    else:
        try:
            content = yaml.safe_load(data.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ValueError(f"{data}: cannot read the dataset YAML ({exc})") from None
        root, kind = dataset_root(data, content), "yaml"
    plan = {"kind": kind, "root": str(root), "limit_mb": cluster.upload_limit_mb}
    node_root = cluster.to_node(root)
    if node_root is not None:
        return {**plan, "mode": "mapped", "node_root": node_root}
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and p.suffix != ".cache")
    fits = size <= cluster.upload_limit_mb * 2**20
    return {**plan, "mode": "upload" if fits else "too large", "size_mb": round(size / 2**20, 1)}


def preflight(cluster: Cluster, data: str | Path, gpus: int) -> list:
    """[(ok, check, message)] for a run on ``cluster``: reachable, versions, GPUs free, dataset reachable."""
    checks = []
    try:
        found = describe(cluster)
    except ValueError as exc:
        return [(False, "cluster", str(exc))]
    nodes = found["nodes"]
    checks.append((True, "cluster", f"{cluster.address}: {len(nodes)} node{'s' * (len(nodes) != 1)}, "
                                    f"{found['cpus']} CPUs, {found['gpus_total']} GPUs"))
    mine = local_versions()
    same_ray = found["ray"] == mine["ray"]
    checks.append((same_ray, "ray", f"Ray {found['ray']} on the cluster, {mine['ray']} here" +
                   ("" if same_ray else f": install the cluster's version here (pip install ray[default]=={found['ray']})")))
    try:
        software = node_software(cluster)
    except Exception as exc:  # noqa: BLE001  (a probe that cannot run is the check's answer)
        checks.append((False, "python", f"a job could not run on the cluster: {exc}"))
    else:
        same_python = software["python"].rsplit(".", 1)[0] == mine["python"].rsplit(".", 1)[0]
        checks.append((same_python, "python", f"Python {software['python']} on the nodes, {mine['python']} here" +
                       ("" if same_python else ": Ray needs the same Python minor version on both sides")))
        missing = [name for name in ("torch", "ultralytics") if not software.get(name)]
        checks.append((not missing, "software",
                       f"PyTorch {software.get('torch')}, Ultralytics {software.get('ultralytics')} on the nodes"
                       if not missing else f"{' and '.join(missing)} not installed on the nodes: pip install "
                       + " ".join(missing) + " there (the studio installs nothing on them)"))
    largest = max((n["gpus"] for n in nodes), default=0)
    if gpus:
        ok = found["gpus_free"] >= gpus and largest >= gpus
        checks.append((ok, "gpus", f"{gpus} GPU{'s' * (gpus != 1)} per run: {found['gpus_free']} free now, "
                                   f"at most {largest} on one node" +
                       ("" if ok else ": the job waits until they are free (or choose fewer)")))
    plan = dataset_plan(cluster, data)
    if plan["mode"] == "mapped":
        checks.append((True, "dataset", f"the nodes read the dataset at {plan['node_root']} (mapping)"))
    elif plan["mode"] == "upload":
        checks.append((True, "dataset", f"the dataset ({plan['size_mb']} MB) goes with the job (limit "
                                        f"{plan['limit_mb']} MB)"))
    else:
        checks.append((False, "dataset", f"the dataset is {plan['size_mb']} MB, over the upload limit of "
                                         f"{plan['limit_mb']} MB, and no mapping covers {plan['root']}: put it on "
                                         "storage the nodes share and map that folder in Settings > Clusters"))
    return checks


# --- the run package and the job ---------------------------------------------------------------

def package_run(run: RunFolder, cluster: Cluster, gpus: int, job_id: str, resume: bool = False,
                into: Path | None = None) -> Path:
    """The job's working directory: job.json, the run's artifacts (and last.pt to resume a training; the
    count of recorded trials to resume a tuning), the dataset YAML for the nodes (and the dataset when
    uploaded), and the studio's training code."""
    package = Path(into or tempfile.mkdtemp(prefix="yolo-studio-job-"))
    shutil.copytree(run.artifacts, package / "run" / "artifacts", ignore=shutil.ignore_patterns("__pycache__"))
    (package / "run" / "logs").mkdir(parents=True)
    spec = run.spec()
    tuning = bool(spec.get("tune"))
    if resume and not tuning:
        if not run.last.exists():
            raise ValueError(f"{run.last} does not exist: the run has no checkpoint to resume from")
        (package / "run" / "weights").mkdir()
        shutil.copy2(run.last, package / "run" / "weights" / "last.pt")
    plan = dataset_plan(cluster, spec["data"])
    if plan["mode"] == "too large":
        raise ValueError(f"the dataset is {plan['size_mb']} MB, over the upload limit of {plan['limit_mb']} MB, "
                         f"and no mapping covers {plan['root']}")
    if plan["mode"] == "upload":
        shutil.copytree(plan["root"], package / "data", ignore=shutil.ignore_patterns("*.cache"))
    data = {"kind": plan["kind"], "uploaded": plan["mode"] == "upload", "node_root": plan.get("node_root")}
    if plan["kind"] == "yaml":  # the YAML with its root where the node finds it
        content = yaml.safe_load(Path(spec["data"]).read_text(encoding="utf-8")) or {}
        content["path"] = "@uploaded" if data["uploaded"] else plan["node_root"]
        write_text_atomic(package / "data.yaml", yaml.safe_dump(content, sort_keys=False))
        data["yaml"] = "data.yaml"
    weights = None
    if spec.get("weights") and not resume:
        shutil.copy2(spec["weights"], package / "start.pt")
        weights = "start.pt"
    studio = Path(__file__).resolve().parents[1]
    (package / "yolo_studio").mkdir()
    for name in SHIPPED:
        source = studio / name
        if source.is_dir():
            shutil.copytree(source, package / "yolo_studio" / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, package / "yolo_studio" / name)
    job = {"job_id": job_id, "gpus": gpus, "resume": resume, "data": data, "weights": weights, "tune": tuning}
    if tuning and resume:  # the trials still to run are numbered after those recorded
        job["trials_done"] = len(recorded_trials(read_events(run.events)))
    write_text_atomic(package / "job.json", json.dumps(job, indent=1))
    return package


def cluster_info(run: RunFolder) -> dict | None:
    """``artifacts/cluster.json`` of a run trained on a cluster; None for a local run."""
    try:
        return json.loads((run.artifacts / "cluster.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _save_info(run: RunFolder, info: dict) -> None:
    write_text_atomic(run.artifacts / "cluster.json", json.dumps(info, indent=1))


def submit(run: RunFolder, cluster: Cluster, gpus: int = 0, resume: bool = False) -> str:
    """Submit the run as a Ray job; returns the job id (also in the run folder)."""
    client = _client(cluster)
    job_id = f"yolo-studio-{run.path.name}-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="yolo-studio-job-") as tmp:
        package = package_run(run, cluster, gpus, job_id, resume, Path(tmp) / "package")
        env = {"YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "false", "RAY_USAGE_STATS_ENABLED": "0",
               "RAY_JOB_STOP_WAIT_TIME_S": str(HARD_STOP_S), "PYTHONUNBUFFERED": "1",
               "RAY_CHDIR_TO_TRIAL_DIR": "0"}  # a tuning's trials start in the package, on every node
        tuning = bool(run.spec().get("tune"))  # its driver only schedules: the trials take the CPUs and GPUs
        try:
            _submit(client, entrypoint="python -m yolo_studio.training.cluster_job",  # the nodes' own Python
                              submission_id=job_id, entrypoint_num_gpus=None if tuning else gpus or None,
                              entrypoint_num_cpus=0 if tuning else 1,
                              runtime_env={"working_dir": str(package), "env_vars": env},
                              metadata={"yolo-studio": "train", "run": run.path.name})
        except Exception as exc:  # noqa: BLE001  (Ray raises RuntimeError with the server's message)
            raise ValueError(f"the cluster refused the job: {str(exc).splitlines()[0]}") from None
    previous = cluster_info(run) or {}
    info = {"cluster": cluster.name, "address": cluster.address, "job_id": job_id, "gpus": gpus,
            "submitted": time.time(), "resume": resume, "jobs": [*previous.get("jobs", []), job_id],
            "applied": {"events": 0, "log": 0}}
    _save_info(run, info)
    append_event(run.events, "cluster_job", cluster=cluster.name, address=cluster.address, job_id=job_id,
                 gpus=gpus, resumed=resume)
    return job_id


def request_stop(run: RunFolder) -> None:
    """Graceful: a one-line job writes the run's stop request in the cluster's key-value store; the job
    polls it and the runner stops after the batch."""
    info = cluster_info(run)
    client = _client(Cluster(info["cluster"], info["address"]))
    code = (f"import ray\nfrom ray.experimental import internal_kv\nray.init(namespace={NAMESPACE!r})\n"
            f"internal_kv._internal_kv_put({stop_key(info['job_id'])!r}, b'1', overwrite=True, "
            f"namespace={NAMESPACE!r})\n")
    _submit(client, entrypoint=f"python -c {_quote(code)}", entrypoint_num_cpus=0,
                      runtime_env={"env_vars": {"RAY_USAGE_STATS_ENABLED": "0"}},
                      metadata={"yolo-studio": "stop request", "job": info["job_id"]})


def stop_job(run: RunFolder) -> bool:
    """Hard: Ray ends every process of the job now (``stop_job``)."""
    info = cluster_info(run)
    return bool(_client(Cluster(info["cluster"], info["address"])).stop_job(info["job_id"]))


def job_status(run: RunFolder) -> str:
    """PENDING | RUNNING | SUCCEEDED | FAILED | STOPPED, or LOST when the cluster does not know the job."""
    info = cluster_info(run)
    client = _client(Cluster(info["cluster"], info["address"]))
    try:
        return str(client.get_job_status(info["job_id"])).split(".")[-1]
    except RuntimeError as exc:
        if "does not exist" in str(exc) or "404" in str(exc):
            return "LOST"
        raise


def is_cluster_run(run: RunFolder) -> bool:
    return (run.artifacts / "cluster.json").exists()

