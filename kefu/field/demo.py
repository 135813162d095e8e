def demo_step(run):  # filled below
    return run
