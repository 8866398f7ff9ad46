"""adam: SDTM to pooled ADaM for an integrated summary of safety (ADSL, ADAE, ADEX, ADAETTE).

>>> import adam
>>> iss = adam.load_iss_config("iss.json")
>>> analysis = adam.derive_adam(adam.pool_sdtm([study_a, study_b]), iss)    # ADSL, ADAE, ADEX, ADAETTE

Holds derivations only: ``build`` (pool the studies' SDTM, derive and check the analysis
datasets), one module per dataset (``adsl``, ``adae``, ``adex``, ``adaette``), ``periods``,
``groups`` (which treatment group holds a treatment or arm), ``pools`` (the analysis pools and
their flags), ``imputation`` (partial dates), ``units`` (days per year: the one place), the ISS config
(``config``), the composed ADaM spec (``adamspec``) and the reviewer's guide (``adrg``). The
rates, their comparisons and the table frames computed from these datasets are the report's
(``report.eair``, ``report.compare_rates``, ``report.poisson_rate_ci``, ``report.tables``).

May import: ``specs``, ``fileformats`` and ``sdtm`` (the study config, SDTM read back);
never ``define``, ``report`` or ``trialpack`` (tests/test_layering.py).
"""
from adam.build import ISSAnalysis, derive_adam, derive_adsl, pool_sdtm
from adam.config import ISSConfig, load_iss_config
from adam.imputation import impute_dates, impute_start_end
from adam.units import DAYS_PER_YEAR, days_to_years

__all__ = ["DAYS_PER_YEAR", "ISSAnalysis", "ISSConfig", "days_to_years", "derive_adam", "derive_adsl",
           "impute_dates", "impute_start_end", "load_iss_config", "pool_sdtm"]
