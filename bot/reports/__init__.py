"""The coordinator's reports: beneficiaries against the 4,000-a-year indicator, and more."""
