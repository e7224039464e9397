"""rolegraph.graphs"""
