"""Operations: run history, alerts, watch/serve, monitoring outputs, profilers, console."""
