"""primex.dashboard"""
