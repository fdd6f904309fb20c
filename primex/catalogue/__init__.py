"""primex.catalogue"""
