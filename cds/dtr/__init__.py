"""Da Vinci DTR payer service for CP.MP.101: the questionnaire package, its libraries and value
sets, prepopulation, and the CapabilityStatement (issue 12)."""
