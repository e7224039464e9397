"""rolegraph.models"""
