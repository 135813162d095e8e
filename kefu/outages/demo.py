"""Demo data placeholder (replaced below)."""


def demo_step(run) -> None:
    return None
