"""`mira evaluate`: per-category AP and mAP of predictions against ground truth."""

from typing import Annotated

import typer

from mira_cli import output
from mira_cli.options import JsonOpt


def _iou_threshold(value: float) -> float:
    if not 0 <= value < 1:
        raise typer.BadParameter(f"{value} is not in the range 0<=x<1.")
    return value


PredArg = Annotated[
    str,
    typer.Argument(
        help="Predictions: a tarball (or a glob of shards) whose annotations have scores.",
        metavar="PRED.tar",
    ),
]
TruthArg = Annotated[
    str,
    typer.Argument(help="Ground truth: a tarball (or a glob of shards).", metavar="GT.tar"),
]
IouOpt = Annotated[
    float,
    typer.Option(
        "--iou-threshold",
        callback=_iou_threshold,
        help="IoU above which a prediction finds a ground-truth box, in [0, 1).",
    ),
]


def run(
    predictions: PredArg,
    ground_truth: TruthArg,
    iou_threshold: IouOpt = 0.5,
    json_mode: JsonOpt = False,
) -> None:
    """Average precision per category (VOC 11-point) and its mean; no image decoded.

    Scenes are paired by key and categories by name; an unpaired scene is an error.

    Example: mira evaluate predictions.tar data-test.tar --iou-threshold 0.5

    Python: mira.metrics.evaluate_files(predictions, ground_truth, iou_threshold).
    """
    from mira.metrics import evaluate_files

    report = evaluate_files(predictions, ground_truth, iou_threshold)
    rows = [[c["name"], c["ground_truth"], c["predictions"], c["ap"]] for c in report["categories"]]
    rows.append(["mAP", None, None, report["map"]])
    title = f"{report['scenes']} scenes, IoU > {report['iou_threshold']:g}"
    table = output.Table(title, ["category", "ground truth", "predictions", "AP"], rows)
    output.emit(report, [table], json_mode)
