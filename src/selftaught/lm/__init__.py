"""selftaught.lm"""
