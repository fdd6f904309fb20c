"""primex.linkage"""
