"""The protection step: applies `primex.sdc` to a request (SPP side).

It merges the disclosure parameters in force (service policy, the researcher's proposal, the
officer's conditions), checks the coded input against the log, keeps the private release
ledger and the cell-key secret, and writes the protected files and the disclosure report.
"""
