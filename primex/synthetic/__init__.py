"""primex.synthetic"""
