"""Adding a delivery from the UI: the job `register_delivery`.

An evaluator launches `register_delivery` with the drop folder and the study in its run config. The job does
what `pilot run --data FOLDER --study ID` does (`pipelines.run.run_study`): it checks the folder and the study
id and registers the delivery, only then adds its partition, and evaluates the study as of that delivery in a
run of its design's job (`pilot_evaluation` for the AKC pilot) of its own, which it waits for. A folder or study that cannot be a delivery fails the
job with one line and adds nothing, so no partition is left behind that could only fail.

The folder's path is part of the run's configuration and so kept in Dagster's record of the run: name drop
folders after the delivery, never after a person (the landing folder's convention).
"""

from pathlib import Path

import dagster as dg
from pydantic import Field

from pipelines.run import run_study
from toc.errors import UserError

#: The run tags by which `register_delivery` says what it added and which run evaluated it.
DELIVERY_TAG, EVALUATION_TAG = "pilot/registered_delivery", "pilot/evaluation_run"


class DeliveryFolder(dg.Config):
    folder: str = Field(description="The drop folder to add as a delivery: the full path of a folder of tables.")
    study: str = Field(
        default="",
        description="The study the delivery belongs to (lower case, digits and '-'); empty: the drop is a study "
        "of its own.",
    )
    design: str = Field(
        default="",
        description="The study's design on its first delivery (a file under studies/: passend-werk, eigen-regie, "
        "tweede-spoor, symptoommonitor); empty: the design named like the study, else the AKC pilot's.",
    )


@dg.op(
    description="Register the folder as a delivery of the study, add its partition and evaluate it (nothing is "
    "added when the folder or the study cannot be a delivery)."
)
def register_folder(context: dg.OpExecutionContext, config: DeliveryFolder) -> str:
    folder = Path(config.folder)
    try:
        if not folder.is_absolute():
            raise UserError("folder: give the full path of the drop folder (it starts with /)")
        outcome = run_study(config.study.strip() or None, folder, design=config.design.strip() or None)
    except UserError as exc:  # `pilot run`'s words name its option; here the field is `folder`
        raise dg.Failure(description=str(exc).replace("--data:", "folder:"), allow_retries=False) from None
    context.instance.add_run_tags(context.run_id, {DELIVERY_TAG: outcome.delivery.key, EVALUATION_TAG: outcome.run_id})
    if outcome.not_evaluable:
        context.log.warning(f"delivery {outcome.delivery.delivery_key} is stored; {outcome.not_evaluable}")
    return outcome.delivery.key


@dg.job(
    description="Add a drop folder as a delivery of a study (run config: folder, study), then evaluate the study "
    "as of that delivery."
)
def register_delivery():
    register_folder()
