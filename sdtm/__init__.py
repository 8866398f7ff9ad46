"""sdtm: raw EDC data to SDTM (DM, AE, EX, SUPPDM, SUPPAE), one module per domain."""
