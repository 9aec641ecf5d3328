"""The assets and jobs of every study design other than the AKC pilot (one set per file under `studies/`)."""

import dagster as dg

from pipelines.design_assets import all_definitions


@dg.definitions
def designs() -> dg.Definitions:
    built = all_definitions()
    return dg.Definitions(assets=[a for b in built for a in b.assets], jobs=[b.job for b in built])
