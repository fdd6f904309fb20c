"""The synthetic PRIMA and BCSS warehouse used by the demo, the tests and the benchmarks.

All data here is synthetic: valid-looking national numbers, real REFNIS communes, realistic
shares and durations, no real person. See docs/synthetic-data.md.
"""

from primex.synthetic.config import GENERATOR_VERSION, SynthConfig
from primex.synthetic.generate import Result, generate
from primex.synthetic.store import content_hash

__all__ = ["GENERATOR_VERSION", "Result", "SynthConfig", "content_hash", "generate"]
