"""Compute-device choice shared by every command: auto | cpu | cuda | cuda:N."""

from __future__ import annotations

import re

import torch

from privscan.errors import DeviceError

_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def resolve_device(spec: str = "auto") -> torch.device:
    """Map a user's --device value to a torch.device; asking for CUDA without it is a clear error."""
    spec = (spec or "auto").strip().lower()
    if not _PATTERN.match(spec):
        raise DeviceError(f"unknown device {spec!r}", hint="use auto, cpu, cuda or cuda:N")
    if spec == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if not torch.cuda.is_available():
        build = "a CPU-only torch build" if torch.version.cuda is None else "no visible CUDA device"
        raise DeviceError(f"--device {spec} asked for CUDA, but this machine has {build}", hint="use --device cpu")
    index = int(spec.split(":")[1]) if ":" in spec else 0
    if index >= torch.cuda.device_count():
        raise DeviceError(
            f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s) visible",
            hint=f"use cuda:0..cuda:{torch.cuda.device_count() - 1}",
        )
    return torch.device("cuda", index)


def describe(device: torch.device) -> str:
    """Human-readable device name for run headers, e.g. 'cuda:0 (NVIDIA H100)' or 'cpu (2 threads)'."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def autocast(device: torch.device, enabled: bool = True) -> torch.autocast:
    """Mixed precision on CUDA (bf16 where supported, else fp16); a no-op context on CPU."""
    if device.type == "cuda" and enabled:
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    return torch.autocast("cpu", enabled=False)
