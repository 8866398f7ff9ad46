"""adam: SDTM to pooled ADaM for an integrated summary of safety (ADSL, ADAE, ADEX, ADAETTE).

>>> import adam
>>> iss = adam.load_iss_config("iss.json")
>>> analysis = adam.derive_adam(adam.pool_sdtm([study_a, study_b]), iss)    # ADSL, ADAE, ADEX, ADAETTE
>>> rates = adam.eair(analysis.datasets["ADAETTE"], by=("PARAMCD", "TRTA"))
"""
from adam.build import ISSAnalysis, derive_adam, derive_adsl, pool_sdtm
from adam.config import ISSConfig, load_iss_config
from adam.imputation import impute_dates, impute_start_end
from adam.rates import compare_rates, crude_incidence, eair, event_rate, poisson_rate_ci
from adam.units import DAYS_PER_YEAR, days_to_years

__all__ = ["DAYS_PER_YEAR", "ISSAnalysis", "ISSConfig", "compare_rates", "crude_incidence", "days_to_years",
           "derive_adam", "derive_adsl", "eair", "event_rate", "impute_dates", "impute_start_end",
           "load_iss_config", "poisson_rate_ci", "pool_sdtm"]
