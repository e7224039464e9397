"""rolegraph.evaluate"""
