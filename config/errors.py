"""Configuration errors."""


class ConfigError(Exception):
    """Raised with every problem found in the settings, each naming its setting."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("invalid configuration:\n" + "\n".join(f"- {p}" for p in self.problems))
