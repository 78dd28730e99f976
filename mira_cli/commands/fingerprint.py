"""`mira fingerprint`: store every image's fingerprint in its scene record."""

from mira_cli import output
from mira_cli.options import (
    ForceOpt,
    InputArg,
    JobsOpt,
    JsonOpt,
    OutputOpt,
    ShardSizeOpt,
    TarFormat,
    TarFormatOpt,
    writer_options,
)


def run(
    inputs: InputArg,
    out: OutputOpt,
    jobs: JobsOpt = None,
    force: ForceOpt = False,
    tar_format: TarFormatOpt = TarFormat.native,
    shard_size: ShardSizeOpt = None,
    json_mode: JsonOpt = False,
) -> None:
    """Add image fingerprints (exact and perceptual) to every scene record, on all cores.

    Images are decoded once and copied byte for byte; scenes that have a fingerprint keep
    it. split, stats and dedupe --images then use them without decoding.

    Example: mira fingerprint data.tar -o data-fp.tar

    Python: mira.pipeline.jobs.fingerprint_file(inputs, output, jobs=None).
    """
    from mira.pipeline.jobs import fingerprint_file

    report = fingerprint_file(
        inputs, out, jobs, force, output.progress, **writer_options(tar_format, shard_size)
    )
    counts = report["fingerprints"]
    rows = [["computed", counts["computed"]], ["already stored", counts["stored"]]]
    title = f"Fingerprinted {report['scenes']} scenes into {out}"
    output.emit(report, [output.Table(title, ["fingerprints", "scenes"], rows)], json_mode, out)
