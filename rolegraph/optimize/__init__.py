"""rolegraph.optimize"""
