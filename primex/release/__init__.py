"""primex.release"""
