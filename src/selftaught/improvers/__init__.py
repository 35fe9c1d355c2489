"""selftaught.improvers"""
