"""The chat-model contract: what a model is (`spec.ModelSpec`) and how it is called (`types.ChatModel`,
`Message` in, `Completion` out).

Why a package of its own: every layer that talks to a model needs these names, and so do both sides of
the model layer. The simulator (`rolegraph.sim`) implements the contract; the real backends, the pool,
the response cache and the hub (`rolegraph.models`) implement it too and also build simulated models,
read simulator worlds and fingerprint the simulator. With the contract inside `models`, sim and models
imported each other. Here, below both, the layers read contract < sim < models: the simulator knows
nothing of pools, caches or real endpoints, and `models` uses the simulator like any other backend.
Nothing in this package imports from another rolegraph package except the item types it carries
(`rolegraph.items`).
"""
