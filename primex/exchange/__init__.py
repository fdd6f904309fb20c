"""What crosses between the parties, owned by neither side: the file manifest
(:mod:`~primex.exchange.manifest`), the release package's member names
(:mod:`~primex.exchange.layout`) and its encryption for one research centre
(:mod:`~primex.exchange.envelope`). The SPP's gate (`primex.release`) writes these formats,
the researcher's side (`primex.researcher`) reads them; neither imports the other.
"""
