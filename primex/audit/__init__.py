"""primex.audit"""
