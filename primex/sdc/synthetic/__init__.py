"""Synthetic microdata: SDV synthesis (optional extra) and its disclosure/utility evaluation."""
