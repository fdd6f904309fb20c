"""primex.extract"""
