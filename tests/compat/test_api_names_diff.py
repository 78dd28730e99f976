"""Every public name of the original's modules exists here, and every function and method
takes the original's parameters in the original's order (ours may add more after them).

Names left out on purpose are listed in NOT_PROVIDED with the README's reason."""

from __future__ import annotations

import importlib
import inspect

MODULES = [
    "mira.core",
    "mira.core.annotation",
    "mira.core.scene",
    "mira.core.utils",
    "mira.core.resizing",
    "mira.core.augmentations",
    "mira.core.experimental",
    "mira.datasets",
    "mira.metrics",
]
# Internal details of the original (type variables, torch hooks, albumentations 1.x hooks,
# private codecs) and what mira does not do (downloads, torch); see the README.
NOT_PROVIDED = {
    "mira.core": {"torchtools", "files", "callbacks", "protos", "imagemeta"},
    "mira.core.utils": {
        "FlattenItem", "SplitApplyRecombineItem", "SplitApplyRecombineOutput",
        "SplitApplyRecombineIndexKey",
    },
    "mira.core.resizing": {"torch", "tvtf", "ArrayType"},
    "mira.core.augmentations": {"mce", "mcu"},
    "mira.core.scene": {"IMAGE_PLACEHOLDER", "decode_bytes", "encode_bytes", "mps", "log"},
    "mira.datasets": {"ImageNet1KCategories", "load_coco_text", "pixabay", "preloaded"},
    "mira.metrics": {"SceneCollection", "Annotation", "compute_iou"},
}  # fmt: skip
# Hooks albumentations 1.x called; albumentations 2.0 calls others.
ALBUMENTATIONS_HOOKS = {
    "apply", "apply_to_bbox", "apply_to_keypoint", "apply_to_bboxes", "apply_to_keypoints",
    "apply_to_mask", "get_params_dependent_on_targets", "targets_as_params",
    "get_transform_init_args_names",
}  # fmt: skip

LISTING = """
import importlib, inspect
def parameters(f):
    try:
        return [p.name for p in inspect.signature(f).parameters.values()]
    except (TypeError, ValueError):
        return None
result = {}
for name in modules:
    module = importlib.import_module(name)
    entries = {}
    for key, value in vars(module).items():
        if key.startswith("_") or (inspect.ismodule(value) and not name.endswith(".core")):
            continue
        if inspect.ismodule(value):
            entries[key] = {"kind": "module"}
        elif inspect.isclass(value):
            methods = {
                k: parameters(v) for k, v in vars(value).items()
                if not k.startswith("_") and inspect.isfunction(v)
            }
            entries[key] = {"kind": "class", "init": parameters(value), "methods": methods}
        elif callable(value):
            entries[key] = {"kind": "function", "parameters": parameters(value)}
        else:
            entries[key] = {"kind": "value"}
    result[name] = entries
"""


def parameters(f) -> list[str] | None:
    try:
        return [p.name for p in inspect.signature(f).parameters.values()]
    except (TypeError, ValueError):
        return None


def starts_with(ours: list[str] | None, theirs: list[str] | None) -> bool:
    """Ours take theirs first, in order (**kwargs may come from a longer list)."""
    if ours is None or theirs is None:
        return True
    theirs = [p for p in theirs if p not in ("args", "kwargs", "params")]
    return ours[: len(theirs)] == theirs


def test_every_name_exists_with_the_original_parameters(original) -> None:
    theirs = original(LISTING, modules=MODULES)
    problems = []
    for name, entries in theirs.items():
        module = importlib.import_module(name)
        for key, info in entries.items():
            if key in NOT_PROVIDED.get(name, ()) or key in ("log", "LOGGER"):
                continue
            if not hasattr(module, key):
                problems.append(f"{name}.{key} is missing")
                continue
            ours = getattr(module, key)
            if info["kind"] == "function" and not starts_with(parameters(ours), info["parameters"]):
                problems.append(f"{name}.{key}{info['parameters']} is {parameters(ours)} here")
            if info["kind"] == "class":
                if not starts_with(parameters(ours), info["init"]):
                    problems.append(f"{name}.{key}{info['init']} is {parameters(ours)} here")
                for method, expected in info["methods"].items():
                    if method in ALBUMENTATIONS_HOOKS and name.endswith("augmentations"):
                        continue
                    if not hasattr(ours, method):
                        problems.append(f"{name}.{key}.{method} is missing")
                        continue
                    found = parameters(getattr(ours, method))
                    if not isinstance(getattr(ours, method), property) and not starts_with(
                        found, expected
                    ):
                        problems.append(f"{name}.{key}.{method}{expected} is {found} here")
    assert problems == [], "\n".join(problems)
