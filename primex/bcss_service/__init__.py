"""`primex bcss serve`: the BCSS linkage service, on the BCSS's own machine and home.

It holds the linkage keystore, the warehouse and a work folder, and nothing of PRIMA. The
SPP uploads an extract (with NISS) in resumable chunks, asks for it to be coded, downloads
the coded file (pseudonyms, no NISS) and a receipt signed by the BCSS operator's key, and has
the BCSS key sign the `coding` entry of its audit log. See docs/bcss-operator.md.
"""
