"""`privscan weights import-drag`: the DRAG authors' three checkpoints -> one privscan checkpoint, same outputs.

The authors' files cannot be downloaded here, so the test writes state dicts in their key layout itself
(../shared/papers/drag-authors-code/official_state_dict_keys.txt): a torchvision ResNet without `fc`
(random init, BatchNorm statistics set by train-mode passes over real photos so the features are not
degenerate), their channel-grouping `fc1`/`fc2`, and their `dgcn` keys including the unused `conv` and
`mha.linear_layers`. `authors_forward` below recomputes their eval forward step by step from the written
description of their code (official_forward.md) with plain tensor operations (no privscan model code, no
torch-geometric), their inline test-time dropout switched off, and their preprocessing (PIL bilinear resize
to 448 x 448, ImageNet normalisation). The imported model must give the same adjacency, logits and
p_private, and so must `privscan audit --drag-weights` on real photos.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from privscan import tv
from privscan.cli import native_log
from privscan.cli.app import app, main
from privscan.engine.drag_predictor import load_drag_predictor
from privscan.io.checkpoint import load_checkpoint

N = 4  # regions (the authors' notebook default)
ARCH = "resnet50"  # same layer shapes as ResNet-101 after layer3, half the CPU time
IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
PHOTOS = ("astronaut", "coffee", "chelsea")  # real photos shipped by scikit-image
TOLERANCE = 1e-4

runner = CliRunner()


def _photo(name: str) -> np.ndarray:
    from skimage import data

    arr = np.asarray(getattr(data, name)())
    return np.ascontiguousarray(arr[..., :3]).astype(np.uint8)


def authors_input(path: Path) -> torch.Tensor:
    """Their dataset's preprocessing up to ToTensor: PIL RGB, bilinear resize to 448 x 448, [0, 1] (1, 3, 448, 448).

    Their Normalize step is the first thing authors_forward does.
    """
    img = Image.open(path).convert("RGB").resize((448, 448), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.asarray(img).copy()).permute(2, 0, 1).float().div(255).unsqueeze(0)


def authors_backbone(arch: str, state: dict[str, torch.Tensor] | None = None) -> torch.nn.Module:
    """Their backbone module: a torchvision ResNet with avgpool and fc replaced by empty Sequentials."""
    net = getattr(tv.models(), arch)(weights=None)
    net.avgpool = torch.nn.Sequential()
    net.fc = torch.nn.Sequential()
    if state is not None:
        net.load_state_dict(state)
    return net


def _dense_gcn(x: torch.Tensor, adj: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """DenseGCNConv as described: diagonal set to 1, row sums clamped to >= 1, D^-1/2 A D^-1/2 (X W^T) + b."""
    a = adj.clone()
    idx = torch.arange(a.shape[-1])
    a[:, idx, idx] = 1.0
    d = a.sum(dim=-1).clamp(min=1.0).pow(-0.5)
    a = d.unsqueeze(-1) * a * d.unsqueeze(-2)
    return a @ (x @ weight.t()) + bias


@torch.no_grad()
def authors_forward(images: torch.Tensor, backbone: torch.nn.Module, cgl: dict, dgcn: dict) -> dict[str, torch.Tensor]:
    """Their eval forward (their inline GCN dropouts off): adjacency (B, N, N), logits [private, public], p_private."""
    b = images.shape[0]
    feat = backbone.eval()((images - IMAGENET_MEAN) / IMAGENET_STD).view(b, 2048, 14, 14)
    g = feat.mean(dim=(2, 3))
    h = torch.sigmoid(g @ cgl["fc1.weight"].t() + cgl["fc1.bias"])
    weights = torch.sigmoid(h @ cgl["fc2.weight"].t() + cgl["fc2.bias"]).view(b, -1, 2048)
    x = (weights @ feat.view(b, 2048, 196)) / 2048  # region maps as graph nodes, (B, N, 196)
    q = x @ dgcn["fc1.weight"].t() + dgcn["fc1.bias"]
    k = x @ dgcn["fc2.weight"].t() + dgcn["fc2.bias"]
    v = x @ dgcn["fc3.weight"].t() + dgcn["fc3.bias"]
    attended = torch.softmax(q @ k.transpose(1, 2) / 8.0, dim=-1) @ v  # sqrt(64) = 8
    adj = attended.transpose(1, 2) @ dgcn["mha.output_linear.weight"].t() + dgcn["mha.output_linear.bias"]
    h1 = torch.relu(_dense_gcn(x, adj, dgcn["conv1.lin.weight"], dgcn["conv1.bias"]))
    h2 = torch.relu(_dense_gcn(h1, adj, dgcn["conv2.lin.weight"], dgcn["conv2.bias"]))
    global_scalar = feat.mean(dim=1).mean(dim=(1, 2)).unsqueeze(1)  # channel-mean map, pooled
    pooled = torch.cat([global_scalar, h2.mean(dim=-1)], dim=1)  # (B, N + 1)
    logits = pooled @ dgcn["fc_cls.weight"].t() + dgcn["fc_cls.bias"]
    return {"adjacency": adj, "pooled": pooled, "logits": logits, "p_private": logits.softmax(dim=1)[:, 0]}


def _linear(gen: torch.Generator, out: int, inp: int, scale: float, prefix: str) -> dict[str, torch.Tensor]:
    return {
        f"{prefix}weight": torch.randn(out, inp, generator=gen) * scale / inp**0.5,
        f"{prefix}bias": torch.randn(out, generator=gen) * 0.1,
    }


def authors_state_dicts(arch: str, regions: int, photos: list[Path], seed: int = 0) -> tuple[dict, dict, dict]:
    """(backbone, CGL, dgcn) state dicts in the authors' key layout, with weights that give varied outputs."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = authors_backbone(arch)
    for m in net.modules():  # cumulative BatchNorm statistics over real photos, as a trained network has
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None
            m.reset_running_stats()
    if photos:
        with torch.no_grad():
            net.train()((torch.cat([authors_input(p) for p in photos]) - IMAGENET_MEAN) / IMAGENET_STD)
    backbone = net.state_dict()
    c = 2048
    cgl = {**_linear(gen, c * regions // 2, c, 4.0, "fc1."), **_linear(gen, c * regions, c * regions // 2, 8.0, "fc2.")}
    dgcn = {
        "conv.weight": torch.randn(1, 1, 1, 3, generator=gen),
        "conv.bias": torch.randn(1, generator=gen),
        **_linear(gen, 64, 196, 20.0, "fc1."),
        **_linear(gen, 64, 196, 20.0, "fc2."),
        **_linear(gen, regions, 196, 4.0, "fc3."),
        **_linear(gen, 2, regions + 1, 1.0, "fc_cls."),
        **_linear(gen, regions, regions, 1.0, "mha.output_linear."),
    }
    for i in range(3):  # in their state dict, unused by their forward
        dgcn.update(_linear(gen, regions, regions, 1.0, f"mha.linear_layers.{i}."))
    for i in (1, 2):  # DenseGCNConv as torch-geometric >= 2 stores it: lin.weight [out, in], bias
        layer = _linear(gen, 196, 196, 2.0, f"conv{i}.")
        dgcn[f"conv{i}.lin.weight"], dgcn[f"conv{i}.bias"] = layer[f"conv{i}.weight"], layer[f"conv{i}.bias"]
    if photos:  # scale the classifier to the pooled features so that p_private is neither 0 nor 1
        images = torch.cat([authors_input(p) for p in photos])
        pooled = authors_forward(images, authors_backbone(arch, backbone), cgl, dgcn)["pooled"]
        mean, std = pooled.mean(dim=0), pooled.std(dim=0).clamp_min(1e-6)
        weight = torch.randn(2, regions + 1, generator=gen) / (std * (regions + 1) ** 0.5)
        dgcn["fc_cls.weight"], dgcn["fc_cls.bias"] = weight, -(weight @ mean)
    return backbone, cgl, dgcn


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("photos")
    for name in PHOTOS:  # PNG and JPEG; both sides decode with Pillow, so both see the same pixels
        suffix = "jpg" if name == "coffee" else "png"
        Image.fromarray(_photo(name)).save(root / f"{name}.{suffix}", quality=90)
    return root


def _photos(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".png", ".jpg"))


@pytest.fixture(scope="module")
def authors_files(tmp_path_factory, photo_dir) -> dict:
    root = tmp_path_factory.mktemp("authors")
    backbone, cgl, dgcn = authors_state_dicts(ARCH, N, _photos(photo_dir))
    files = {"backbone": root / "B.pth", "cgl": root / "C.pth", "dgcn": root / "D.pth"}
    for part, state in zip(files, (backbone, cgl, dgcn), strict=True):
        torch.save(state, files[part])
    return {"files": files, "states": {"backbone": backbone, "cgl": cgl, "dgcn": dgcn}}


def _import_args(files: dict, out: Path, arch: str = ARCH, regions: int = N) -> list[str]:
    return [
        "weights", "import-drag", "--backbone", str(files["backbone"]), "--cgl", str(files["cgl"]),
        "--dgcn", str(files["dgcn"]), "--arch", arch, "--regions", str(regions), "--out", str(out),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def imported(tmp_path_factory, authors_files) -> Path:
    out = tmp_path_factory.mktemp("imported") / "drag_authors.pt"
    result = runner.invoke(app, _import_args(authors_files["files"], out))
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def authors_reference(authors_files, photo_dir) -> dict[str, torch.Tensor]:
    """The authors' forward on the photos, once per module: two tests compare against these same numbers."""
    states = authors_files["states"]
    x = torch.cat([authors_input(p) for p in _photos(photo_dir)])
    return authors_forward(x, authors_backbone(ARCH, states["backbone"]), states["cgl"], states["dgcn"])


def test_imported_model_equals_the_authors_forward(imported, authors_files, authors_reference, photo_dir):
    states = authors_files["states"]
    photos = _photos(photo_dir)
    x = torch.cat([authors_input(p) for p in photos])
    ref = authors_reference
    # the test's weights give a real task: p_private varies between the photos and is far from 0 and 1
    assert float(ref["p_private"].min()) > 0.02 and float(ref["p_private"].max()) < 0.98, ref["p_private"]
    assert float(ref["p_private"].max() - ref["p_private"].min()) > 0.05, ref["p_private"]
    assert (ref["adjacency"] < 0).any()  # real-valued, signed adjacency as their output layer makes it

    predictor = load_drag_predictor(torch.device("cpu"), imported)
    assert predictor is not None and predictor.input_size == 448
    model = predictor.model
    assert model.config.adjacency == "authors" and model.config.backbone == ARCH and model.config.regions == N
    with torch.no_grad():
        out = model(x)  # the same pixels in [0, 1]: privscan's backbone normalises inside
    diffs = {
        "adjacency": float((out.adjacency - ref["adjacency"]).abs().max()),
        "logits": float((out.logits[:, [1, 0]] - ref["logits"]).abs().max()),  # theirs: [private, public]
        "p_private": float((out.logits.softmax(1)[:, 1] - ref["p_private"]).abs().max()),
    }
    print("max abs differences, imported vs authors' forward:", diffs, "logit range", ref["logits"].aminmax())
    assert all(d < TOLERANCE for d in diffs.values()), diffs

    payload = load_checkpoint(imported)
    assert payload["imported_from"]["ignored_keys"] == sorted(
        k for k in states["dgcn"] if k.startswith(("conv.", "mha.linear_layers."))
    )


def test_audit_with_imported_weights_reports_the_authors_p_private(imported, authors_reference, photo_dir, tmp_path):
    """The exact audit command: its per-image p_private is the authors' (their PIL resize included)."""
    photos = _photos(photo_dir)
    ref = authors_reference
    out = tmp_path / "report"
    args = ["audit", str(photo_dir), "--drag-weights", str(imported), "--detectors", "none", "--format", "json"]
    result = runner.invoke(app, [*args, "--out", str(out), "--device", "cpu", "--quiet"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    got = {Path(r["path"]).name: r["verdict"] for r in report["images"]}
    diffs = []
    for path, p_ref in zip(photos, ref["p_private"].tolist(), strict=True):
        verdict = got[path.name]
        assert verdict["source"] == "drag"
        diffs.append(abs(verdict["p_private"] - p_ref))
    print("audit p_private vs authors' forward (their preprocessing), max abs difference:", max(diffs))
    assert max(diffs) < TOLERANCE, diffs


def test_torch_geometric_1_layout_imports_to_the_same_model(authors_files, imported, tmp_path):
    """torch-geometric 1.x (the paper's 1.6.1) saved DenseGCNConv weights as conv1.weight [in, out]."""
    files = dict(authors_files["files"])
    old = {k: v for k, v in authors_files["states"]["dgcn"].items() if ".lin." not in k}
    for i in (1, 2):
        old[f"conv{i}.weight"] = authors_files["states"]["dgcn"][f"conv{i}.lin.weight"].t().contiguous()
    files["dgcn"] = tmp_path / "D_pyg1.pth"
    torch.save({f"module.{k}": v for k, v in old.items()}, files["dgcn"])  # DataParallel prefix as well
    out = tmp_path / "pyg1.pt"
    result = runner.invoke(app, _import_args(files, out))
    assert result.exit_code == 0, result.output
    a, b = load_checkpoint(out)["state_dict"], load_checkpoint(imported)["state_dict"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _check_one_line(code: object, stderr: str, stdout: str = "") -> str:
    assert code == 2, (code, stdout, stderr)
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


def _one_line_error(args: list[str]) -> str:
    """Run the real command line (its error handler is in main) and return its single error line."""
    result = subprocess.run([sys.executable, "-m", "privscan", *args], capture_output=True, text=True)
    return _check_one_line(result.returncode, result.stderr, result.stdout)


def _one_line_error_here(args: list[str], capsys, monkeypatch) -> str:
    """The same entry point, privscan.cli.app.main with these argv, run in this process.

    Why: a fresh `python -m privscan weights import-drag` spends about 4 s of its 4.6 s importing torch and
    torch-geometric, which this process has imported already, so a subprocess per refused input made this
    file's error tests take half a minute. main's own handler still turns the error into the exit status and
    the stderr line checked here. Only native_log.install is skipped (marked installed): it re-points fd 2
    of the whole test process, and it filters native libraries' info lines, which no error here involves.
    The first case of the wrong-arch test still runs as a real subprocess, so that path stays covered.
    """
    monkeypatch.setattr(sys, "argv", ["privscan", *args])
    monkeypatch.setattr(native_log, "_installed", True)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # typer installs its own; restored afterwards
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    return _check_one_line(exited.value.code, captured.err, captured.out)


def test_wrong_arch_regions_and_files_are_one_line_errors(authors_files, tmp_path, capsys, monkeypatch):
    files = authors_files["files"]
    out = tmp_path / "x.pt"
    text = _one_line_error(_import_args(files, out, arch="resnet101"))
    assert "resnet50" in text and "not --arch resnet101" in text
    text = _one_line_error_here(_import_args(files, out, regions=8), capsys, monkeypatch)
    assert "N = 4" in text and "not --regions 8" in text
    swapped = {**files, "backbone": files["cgl"]}
    text = _one_line_error_here(_import_args(swapped, out), capsys, monkeypatch)
    assert "not a torchvision ResNet" in text
    junk = tmp_path / "junk.pth"
    junk.write_text("not a checkpoint")
    text = _one_line_error_here(_import_args({**files, "dgcn": junk}, out), capsys, monkeypatch)
    assert "not a readable state dict" in text
    bad = {k: v for k, v in authors_files["states"]["dgcn"].items()}
    bad["mha.output_linear.weight"] = torch.zeros(N + 1, N)
    torch.save(bad, tmp_path / "bad.pth")
    text = _one_line_error_here(_import_args({**files, "dgcn": tmp_path / "bad.pth"}, out), capsys, monkeypatch)
    assert "mha.output_linear.weight has shape [5, 4], expected [4, 4]" in text
    assert not out.exists()


def test_a_resnet101_checkpoint_is_recognised(authors_files, tmp_path, capsys, monkeypatch):
    """ResNet-101's layer3 has 23 blocks: given as resnet50 it is refused by name."""
    torch.save(authors_backbone("resnet101").state_dict(), tmp_path / "B101.pth")
    files = {**authors_files["files"], "backbone": tmp_path / "B101.pth"}
    text = _one_line_error_here(_import_args(files, tmp_path / "x.pt", arch="resnet50"), capsys, monkeypatch)
    assert "is a resnet101, not --arch resnet50" in text


def test_registered_import_is_listed_and_evaluated(authors_files, photo_dir, tmp_path, monkeypatch):
    """--register-name puts it in the weights manifest (`privscan weights` verifies it) and `evaluate drag` runs."""
    monkeypatch.setenv("PRIVSCAN_WEIGHTS_DIR", str(tmp_path / "weights"))
    out = tmp_path / "imp.pt"
    result = runner.invoke(app, [*_import_args(authors_files["files"], out), "--register-name", "drag_authors"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, ["weights", "--json"])
    entries = {e["name"]: e for e in json.loads(listed.output)}
    assert entries["drag_authors"]["status"] == "ok" and entries["drag_authors"]["kind"] == "drag"
    data = tmp_path / "data"
    data.mkdir()
    rows = ["img_name,label"]
    for label, name in (("private", "astronaut"), ("public", "coffee")):
        Image.fromarray(_photo(name)).save(data / f"{name}.png")
        rows.append(f"{name}.png,{label}")
    for split in ("train", "test"):
        (data / f"{split}.csv").write_text("\n".join(rows) + "\n")
    args = ["evaluate", "drag", "--data", str(data), "--checkpoint", str(out), "--split", "test", "--device", "cpu"]
    result = runner.invoke(app, [*args, "--json", str(tmp_path / "eval.json")])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "eval.json").read_text())
    assert metrics["metrics"]["count"] == 2 and metrics["model"]["adjacency"] == "authors"
