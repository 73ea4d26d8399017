"""Local accounts: login, registration, password reset, logout."""
