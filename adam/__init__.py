"""adam: SDTM to pooled ADaM for an integrated summary of safety (ADSL, ADAE, ADEX, ADAETTE)."""
