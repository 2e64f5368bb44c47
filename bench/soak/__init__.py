"""The soak: a real `decision serve` under weeks' worth of traffic, rule reloads and model swaps, memory watched."""
