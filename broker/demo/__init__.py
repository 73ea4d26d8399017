"""``broker demo``: a seeded broker (and, as later issues add them, the sandbox upstream portals
and the demo downstream portals) for a newcomer's browser and for scripted checks.
The cast is shared/DEMO.md's."""
